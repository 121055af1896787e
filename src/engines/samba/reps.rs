//! A DC's inbound replication per naming context and partner: the `repsFrom` values of each NC
//! head, a `repsFromToBlob` (MS-DRSR 5.172 / Samba's drsblobs.idl) read over LDAP. Version 1,
//! little-endian: the consecutive failures at byte 12, the last success and the last attempt
//! (seconds since 1601) at 16 and 24, the result of the last attempt (a WERROR) at 32, and the
//! partner's NTDS Settings objectGUID at 160 (after the 84-byte schedule and the high-water
//! mark, aligned to 8). Checked against the partner's DNS name in the same blob and `samba-tool
//! drs showrepl` in the lab.
//!
//! P11: a partner that died still shows its last success until the next periodic pull (300 s):
//! liveness is never read from here, only what a pull that ran did.

use serde::Serialize;

/// Seconds from 1601-01-01 to 1970-01-01.
const EPOCH_1601: i64 = 11_644_473_600;

/// One inbound replication: `nc` pulled from the DC whose NTDS Settings objectGUID is `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Rep {
    pub(crate) nc: String,
    /// The partner: its DC name where known, else its NTDS Settings objectGUID.
    pub(crate) from: String,
    /// Pulls that failed in a row (0: the last one worked).
    pub(crate) failures: u32,
    /// Unix seconds of the last pull that worked; None: never.
    pub(crate) last_success: Option<i64>,
    /// Unix seconds of the last attempt; None: never.
    pub(crate) last_attempt: Option<i64>,
    /// The WERROR of the last attempt (0: success).
    pub(crate) result: u32,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn time_at(b: &[u8], at: usize) -> Option<Option<i64>> {
    let secs = u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?);
    Some((secs != 0).then(|| secs as i64 - EPOCH_1601))
}

/// One `repsFrom` value of `nc`; None when it is not a version-1 blob drctl can read.
pub(crate) fn parse(nc: &str, b: &[u8]) -> Option<Rep> {
    if u32_at(b, 0)? != 1 {
        return None;
    }
    Some(Rep {
        nc: nc.to_string(),
        from: guid(b.get(160..176)?)?,
        failures: u32_at(b, 12)?,
        last_success: time_at(b, 16)?,
        last_attempt: time_at(b, 24)?,
        result: u32_at(b, 32)?,
    })
}

/// The highest USN of the DSA `invocation` that a `replUpToDateVector` value says its DC has
/// (version 1: 24-byte cursors; version 2: 32 bytes, with the time of the last sync), after a
/// 16-byte header with the cursor count at byte 8.
pub(crate) fn utd_usn(b: &[u8], invocation: &str) -> Option<u64> {
    let width = match u32_at(b, 0)? {
        1 => 24,
        2 => 32,
        _ => return None,
    };
    let count = u32_at(b, 8)? as usize;
    (0..count).find_map(|i| {
        let at = 16 + i * width;
        if guid(b.get(at..at + 16)?)? != invocation {
            return None;
        }
        Some(u64::from_le_bytes(
            b.get(at + 16..at + 24)?.try_into().ok()?,
        ))
    })
}

/// A GUID as Windows writes it, from its 16 bytes (the first three fields little-endian).
pub(crate) fn guid(b: &[u8]) -> Option<String> {
    let b: [u8; 16] = b.try_into().ok()?;
    Some(uuid::Uuid::from_bytes_le(b).hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// DC2's repsFrom of DC=sdc,DC=test in the lab: from 14054d12-…, working.
    const LAB: &str = "AQAAAAAAAAAJAQAAAAAAAFY7IyEDAAAAVjsjIQMAAAAAAAAA0AAAADkAAABkAAAAERERERERERERERERERERERERER\
        ERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERERAAAA\
        AHMPAAAAAAAAAAAAAAAAAABzDwAAAAAAABJNBRTq+txMl10aKmKWkfKGi1+83haRSp3x1753UZD4AAAAAAAAAAAAAA\
        AAAAAAADUAAAAxNDA1NGQxMi1mYWVhLTRjZGMtOTc1ZC0xYTJhNjI5NjkxZjIuX21zZGNzLnNkYy50ZXN0AA==";

    #[test]
    fn a_lab_repsfrom_names_its_partner_and_its_last_success() {
        let b = base64::engine::general_purpose::STANDARD
            .decode(LAB)
            .unwrap();
        let r = parse("DC=sdc,DC=test", &b).unwrap();
        assert_eq!(r.from, "14054d12-faea-4cdc-975d-1a2a629691f2");
        assert_eq!((r.failures, r.result), (0, 0));
        // 2026-12-04 11:56:06 UTC, as `samba-tool drs showrepl` said.
        assert_eq!(r.last_success, Some(1_796_385_366));
        assert_eq!(r.last_attempt, r.last_success);
        assert!(parse("x", &b[..40]).is_none());
    }

    #[test]
    fn an_up_to_dateness_vector_gives_the_usn_taken_from_a_dc() {
        // DC2's replUpToDateVector of DC=sdc,DC=test in the lab, after DC1's removal.
        let b = base64::engine::general_purpose::STANDARD
            .decode(
                "AgAAAAAAAAACAAAAAAAAALWL5h6vXFdJrWLcj0EqkDUVDwAAAAAAAACAPtXesZ0B1U/Gjuo64kWLNcwgk\
                 J5vKBUQAAAAAAAAAIA+1d6xnQE=",
            )
            .unwrap();
        assert_eq!(
            utd_usn(&b, "8ec64fd5-3aea-45e2-8b35-cc20909e6f28"),
            Some(4117)
        );
        assert_eq!(
            utd_usn(&b, "1ee68bb5-5caf-4957-ad62-dc8f412a9035"),
            Some(3861)
        );
        assert_eq!(utd_usn(&b, "00000000-0000-0000-0000-000000000000"), None);
    }
}
