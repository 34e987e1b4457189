//! RFC 3339 timestamps as the contract writes them: UTC, milliseconds, `Z`.
//! Times are kept as milliseconds since the Unix epoch everywhere else.
//! Hand-written: one fixed format each way does not earn a date crate.

/// Formats `ms` since the epoch as `2026-03-20T14:00:00.000Z`.
pub fn format_millis(ms: i64) -> String {
    Millis(ms).to_string()
}

/// A time in milliseconds since the epoch, displayed as RFC 3339 in UTC with
/// milliseconds (`2026-11-29T08:17:16.784Z`), written without allocating: for
/// serializers that write many (`serializer.collect_str(&Millis(ms))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub i64);

impl Millis {
    /// The timestamp's 24 bytes, for a writer that copies them as they are;
    /// `None` for a year outside 0–9999, which does not fit them.
    pub fn rfc3339(self) -> Option<[u8; 24]> {
        let (y, m, d, sod, millis) = self.parts();
        if !(0..=9999).contains(&y) {
            return None;
        }
        // Two digits at a time from a table: a list writes one per model.
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899";
        let pair = |out: &mut [u8; 24], at: usize, n: i64| {
            let i = n as usize * 2;
            out[at..at + 2].copy_from_slice(&PAIRS[i..i + 2]);
        };
        let mut out = *b"0000-00-00T00:00:00.000Z";
        pair(&mut out, 0, y / 100);
        pair(&mut out, 2, y % 100);
        pair(&mut out, 5, m);
        pair(&mut out, 8, d);
        pair(&mut out, 11, sod / 3600);
        pair(&mut out, 14, (sod / 60) % 60);
        pair(&mut out, 17, sod % 60);
        out[20] = b'0' + (millis / 100) as u8;
        pair(&mut out, 21, millis % 100);
        Some(out)
    }

    /// Year, month, day, second of the day, millisecond.
    fn parts(self) -> (i64, i64, i64, i64, i64) {
        let secs = self.0.div_euclid(1000);
        let millis = self.0.rem_euclid(1000);
        let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
        (y, m, d, secs.rem_euclid(86_400), millis)
    }
}

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(bytes) = self.rfc3339() {
            return f.write_str(std::str::from_utf8(&bytes).map_err(|_| std::fmt::Error)?);
        }
        let (y, m, d, sod, millis) = self.parts();
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

/// Parses an RFC 3339 timestamp (`Z` or a `±HH:MM` offset, optional fraction) to
/// milliseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut m: i64 = 0;
        for (i, c) in frac[..digits].bytes().enumerate().take(3) {
            m += i64::from(c - b'0') * [100, 10, 1][i];
        }
        millis = m;
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest[1..3].parse().ok()?;
            let om: i64 = rest[4..6].parse().ok()?;
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec.min(59) - offset_secs;
    Some(secs * 1000 + millis)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil calendar algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_contract_example() {
        let ms = parse_rfc3339("2026-03-20T14:00:00.000Z").unwrap();
        assert_eq!(ms, 1_774_015_200_000);
        assert_eq!(format_millis(ms), "2026-03-20T14:00:00.000Z");
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        // The digits written in place agree with formatting them.
        let slow = |ms: i64| {
            let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
            let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            let (h, mi, s) = (sod / 3600, (sod / 60) % 60, sod % 60);
            format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{millis:03}Z")
        };
        let mut ms: i64 = -62_167_219_200_000; // year 0
        while ms < 253_402_300_800_000 {
            assert_eq!(format_millis(ms), slow(ms));
            ms += 7_777_777_777_777;
        }
        for ms in [-1, 999, 1_000, 253_402_300_799_999, 253_402_300_800_000] {
            assert_eq!(format_millis(ms), slow(ms));
        }
        assert_eq!(Millis(0).rfc3339(), Some(*b"1970-01-01T00:00:00.000Z"));
        assert_eq!(Millis(253_402_300_800_000).rfc3339(), None);
        assert_eq!(Millis(-62_167_219_200_001).rfc3339(), None);
    }

    #[test]
    fn parses_offsets_and_fractions() {
        assert_eq!(
            parse_rfc3339("2026-03-20T16:00:00.5+02:00"),
            Some(1_774_015_200_500)
        );
        assert_eq!(
            parse_rfc3339("2026-03-20T14:00:00Z"),
            Some(1_774_015_200_000)
        );
        assert_eq!(parse_rfc3339("2026-02-30T14:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-03-20T14:00:00"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2026-03-20T14:00:00.Z"), None);
    }

    #[test]
    fn every_day_for_centuries_round_trips() {
        let mut ms = -2_208_988_800_000; // 1900-01-01
        while ms < 4_102_444_800_000 {
            assert_eq!(parse_rfc3339(&format_millis(ms)), Some(ms));
            ms += 86_400_000 + 3_723_001;
        }
    }
}
