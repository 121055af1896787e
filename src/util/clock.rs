//! Wall-clock time, read in one place so that output and events agree on the format.

use time::macros::format_description;
use time::OffsetDateTime;

/// The current time as RFC 3339 in UTC with exactly three fractional digits, so that
/// timestamps sort as strings.
pub fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// An operator's "since": a duration back from now (`10m`, `1h30m`) or an RFC 3339 time
/// (`2026-12-03T02:00:00Z`), as a timestamp in the events' format (so it compares as a string).
pub fn since(text: &str) -> Result<String, String> {
    if let Ok(t) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Ok(rfc3339(t));
    }
    let d = crate::util::duration::parse_duration(text).map_err(|_| {
        format!("'{text}' is neither a duration (10m, 1h30m) nor an RFC 3339 time (2026-12-03T02:00:00Z)")
    })?;
    Ok(rfc3339(OffsetDateTime::now_utc() - d))
}

/// Milliseconds since the Unix epoch.
pub fn now_unix_ms() -> u64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_or_a_time_and_sorts_with_the_events() {
        assert_eq!(
            since("2026-12-03T02:00:00+01:00").unwrap(),
            "2026-12-03T01:00:00.000Z"
        );
        let ten_min_ago = since("10m").unwrap();
        assert!(ten_min_ago < now_rfc3339() && ten_min_ago > since("11m").unwrap());
        let e = since("yesterday").unwrap_err();
        assert!(e.contains("'yesterday'") && e.contains("RFC 3339"), "{e}");
    }
}
