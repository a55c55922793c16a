//! Wall-clock times as operators read them: RFC 3339 in UTC, without a date library.

use std::time::{SystemTime, UNIX_EPOCH};

/// `2026-12-01T19:21:16Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = utc(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2026-12-01T19:21:16.042Z`.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_millis());
    let (y, mo, d, h, mi, s) = utc(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}

/// Seconds since the Unix epoch as RFC 3339 (`None` past year 9999).
pub fn rfc3339_secs(secs: u64) -> Option<String> {
    (secs < 253_402_300_800).then(|| rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(secs)))
}

/// (year, month, day, hour, minute, second) in UTC.
pub fn utc(t: SystemTime) -> (i64, u32, u32, u64, u64, u64) {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    (y, m, d, t / 3600, t / 60 % 60, t % 60)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A date an operator types, as seconds since the Unix epoch (UTC): `YYYY-MM-DD`,
/// `YYYY-MM-DDTHH:MM[:SS]` with an optional `Z`.
pub fn parse_date(text: &str) -> Option<u64> {
    let text = text.trim().trim_end_matches(['Z', 'z']);
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = 0;
    if let Some(t) = time {
        let parts: Vec<u64> = t
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let (h, mi, s) = match parts[..] {
            [h, mi] => (h, mi, 0),
            [h, mi, s] => (h, mi, s),
            _ => return None,
        };
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        secs = h * 3600 + mi * 60 + s;
    }
    let days = days_from_civil(y, m, day);
    let back = civil_from_days(days);
    (back == (y, m as u32, day as u32)).then(|| days as u64 * 86_400 + secs)
}

/// (year, month, day) to days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A duration in the largest whole unit that keeps it readable: `950 ms`, `31 s`, `5 min`,
/// `2 h 5 min`.
pub fn human(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    match s {
        0 => format!("{ms} ms"),
        1..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ if s % 3600 / 60 == 0 => format!("{} h", s / 3600),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_secs(1_796_152_397).unwrap(), "2026-12-01T19:13:17Z");
        assert_eq!(rfc3339_secs(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_secs(u64::MAX), None);
        assert_eq!(
            rfc3339_millis(UNIX_EPOCH + Duration::from_millis(1_042)),
            "1970-01-01T00:00:01.042Z"
        );
    }

    #[test]
    fn dates_operators_type() {
        assert_eq!(parse_date("2026-12-01"), Some(1_796_083_200));
        assert_eq!(parse_date("2026-12-01T19:13:17Z"), Some(1_796_152_397));
        assert_eq!(parse_date("2026-12-01 19:13"), Some(1_796_152_380));
        assert_eq!(parse_date("2000-02-29"), Some(951_782_400));
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "yesterday",
            "2026-12-01T25:00",
            "1969-12-31",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn readable_durations() {
        assert_eq!(human(Duration::from_millis(950)), "950 ms");
        assert_eq!(human(Duration::from_millis(18_558)), "18 s");
        assert_eq!(human(Duration::from_secs(300)), "5 min");
        assert_eq!(human(Duration::from_secs(86_400)), "24 h");
        assert_eq!(human(Duration::from_secs(7_500)), "2 h 5 min");
    }
}
