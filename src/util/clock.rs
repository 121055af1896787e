//! Wall-clock time, read in one place so that output and events agree on the format.

use time::macros::format_description;
use time::OffsetDateTime;

/// The current time as RFC 3339 in UTC with exactly three fractional digits, so that
/// timestamps sort as strings.
pub fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    now.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// Milliseconds since the Unix epoch.
pub fn now_unix_ms() -> u64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as u64
}
