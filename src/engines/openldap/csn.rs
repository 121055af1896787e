//! Change sequence numbers (`20261121225500.123456Z#000000#001#000000`): per-serverID maps and
//! how one server compares with the authoritative provider (in sync, behind, diverged).

use std::collections::BTreeMap;

use serde::Serialize;

/// Newest CSN per server ID (the SID as written in the CSN: three hex digits).
pub type CsnMap = BTreeMap<String, String>;

/// The SID field of a CSN, if it is well-formed.
pub fn sid_of(csn: &str) -> Option<&str> {
    let parts: Vec<&str> = csn.split('#').collect();
    (parts.len() == 4).then(|| parts[2])
}

/// A server ID as it appears in CSNs (11 → `00b`).
pub fn sid_hex(server_id: u32) -> String {
    format!("{server_id:03x}")
}

/// Folds CSNs into the newest per SID (CSNs of one SID compare as strings).
pub fn fold<'a>(map: &mut CsnMap, csns: impl IntoIterator<Item = &'a String>) {
    for c in csns {
        if let Some(sid) = sid_of(c) {
            let e = map.entry(sid.to_string()).or_default();
            if c.as_str() > e.as_str() {
                *e = c.clone();
            }
        }
    }
}

/// Microseconds since the epoch of a CSN's timestamp (for a lag in ms).
pub fn micros(csn: &str) -> Option<i64> {
    let ts = csn.split('#').next()?;
    let (secs, frac) = ts.trim_end_matches('Z').split_once('.')?;
    let fmt = time::macros::format_description!("[year][month][day][hour][minute][second]");
    let t = time::PrimitiveDateTime::parse(secs, &fmt)
        .ok()?
        .assume_utc();
    Some(t.unix_timestamp() * 1_000_000 + frac.parse::<i64>().ok()?)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    InSync,
    Behind,
    /// Newer CSNs than the provider for these SIDs: writes the provider never saw.
    Diverged(Vec<String>),
}

/// Compares `node` with the authoritative `provider`, per SID.
pub fn classify(node: &CsnMap, provider: &CsnMap) -> Position {
    let newer: Vec<String> = node
        .iter()
        .filter(|(sid, c)| provider.get(*sid).is_none_or(|p| c.as_str() > p.as_str()))
        .map(|(sid, _)| sid.clone())
        .collect();
    if !newer.is_empty() {
        Position::Diverged(newer)
    } else if node == provider {
        Position::InSync
    } else {
        Position::Behind
    }
}

/// How far `node` is behind `provider` in ms of CSN time (0 when in sync; None when it
/// lacks every write of some serverID).
pub fn lag_ms(node: &CsnMap, provider: &CsnMap) -> Option<u64> {
    let mut lag = 0;
    for (sid, p) in provider {
        let mine = node.get(sid).and_then(|c| micros(c));
        match (micros(p), mine) {
            (Some(p), Some(m)) if p > m => lag = lag.max(((p - m) / 1000) as u64),
            (Some(_), None) => return None,
            _ => {}
        }
    }
    Some(lag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(csns: &[&str]) -> CsnMap {
        let owned: Vec<String> = csns.iter().map(|s| s.to_string()).collect();
        let mut m = CsnMap::new();
        fold(&mut m, &owned);
        m
    }

    #[test]
    fn classify_per_sid() {
        let p = map(&["20260101000002.000000Z#000000#001#000000"]);
        let behind = map(&["20260101000001.000000Z#000000#001#000000"]);
        let ahead = map(&[
            "20260101000001.000000Z#000000#001#000000",
            "20260101000003.000000Z#000000#002#000000",
        ]);
        assert_eq!(classify(&p, &p), Position::InSync);
        assert_eq!(classify(&behind, &p), Position::Behind);
        assert_eq!(classify(&ahead, &p), Position::Diverged(vec!["002".into()]));
        assert_eq!(lag_ms(&behind, &p), Some(1000));
        assert_eq!(sid_hex(11), "00b");
    }
}
