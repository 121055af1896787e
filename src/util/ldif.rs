//! One LDIF line: the value as is where it is safe printable ASCII, else base64 (`attr::`).

use base64::Engine as _;

/// Appends `attr: value` (or `attr:: base64`) and a newline to `out`.
pub fn line(out: &mut String, attr: &str, v: &[u8]) {
    let safe = std::str::from_utf8(v).ok().filter(|s| {
        !s.starts_with([' ', ':', '<'])
            && !s.ends_with(' ')
            && s.chars().all(|c| (' '..='~').contains(&c))
    });
    match safe {
        Some(s) => out.push_str(&format!("{attr}: {s}\n")),
        None => out.push_str(&format!(
            "{attr}:: {}\n",
            base64::engine::general_purpose::STANDARD.encode(v)
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unsafe_values_are_base64() {
        let mut out = String::new();
        super::line(&mut out, "cn", b"plain");
        super::line(&mut out, "cn", b" lead");
        super::line(&mut out, "g", &[0xff, 0]);
        assert_eq!(out, "cn: plain\ncn:: IGxlYWQ=\ng:: /wA=\n");
    }
}
