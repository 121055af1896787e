//! Durations as operators write them (`500ms`, `2s`, `1.5s`, `3m`, `1m30s`, plain seconds): one
//! parser for the command line and the runbooks, so both accept and refuse the same words; and
//! durations as people read them (`9m57s`, not `597023 ms`).

use std::time::Duration;

/// Parses `500ms`, `2s`, `1.5s`, `3m`, `1m30s` (humantime's words), or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(d) = humantime::parse_duration(s) {
        return within_a_week(s, d);
    }
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (examples: 500ms, 2s, 1m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use ms, s, m or h)")),
    };
    if !(0.0..=86_400.0 * 7.0).contains(&secs) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn within_a_week(s: &str, d: Duration) -> Result<Duration, String> {
    if d > Duration::from_secs(86_400 * 7) {
        return Err(format!("'{s}' is out of range"));
    }
    Ok(d)
}

/// A duration for people: whole seconds from one second up (`9m57s`), milliseconds below
/// (`250ms`).
pub fn human(d: Duration) -> String {
    let d = if d >= Duration::from_secs(1) {
        Duration::from_secs(d.as_secs())
    } else {
        Duration::from_millis(d.as_millis() as u64)
    };
    humantime::format_duration(d).to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_words_parse_and_read_back() {
        for (text, ms) in [
            ("500ms", 500),
            ("2s", 2000),
            ("1.5s", 1500),
            ("3m", 180_000),
            ("1m30s", 90_000),
            ("2", 2000),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        assert!(parse_duration("8d").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(human(Duration::from_millis(597_023)), "9m57s");
        assert_eq!(human(Duration::from_millis(250)), "250ms");
    }
}
