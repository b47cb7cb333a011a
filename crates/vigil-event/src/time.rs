//! Timestamps in the forms detection data uses: RFC 3339 / ISO 8601 (Elasticsearch's
//! `strict_date_optional_time`), epoch milliseconds, and Elasticsearch date-math durations.

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};

/// Why a timestamp or duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{input}`")]
pub struct TimeError {
    pub what: &'static str,
    pub input: String,
}

fn err(what: &'static str, input: &str) -> TimeError {
    TimeError {
        what,
        input: input.chars().take(64).collect(),
    }
}

/// Parses `YYYY-MM-DD[(T| )hh:mm[:ss[.f{1,9}]]][Z|±hh[:mm]|±hhmm]`. A missing offset means UTC,
/// as Elasticsearch assumes for `strict_date_optional_time` without a zone.
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimeError> {
    let e = || err("timestamp", s);
    let b = s.trim().as_bytes();
    let mut p = Cursor { b, i: 0 };
    let year = p.digits(4, 4).ok_or_else(e)?;
    p.expect(b'-').ok_or_else(e)?;
    let month = p.digits(1, 2).ok_or_else(e)?;
    p.expect(b'-').ok_or_else(e)?;
    let day = p.digits(1, 2).ok_or_else(e)?;
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    if matches!(p.peek(), Some(b'T' | b't' | b' ')) {
        p.i += 1;
        hour = p.digits(1, 2).ok_or_else(e)?;
        p.expect(b':').ok_or_else(e)?;
        minute = p.digits(2, 2).ok_or_else(e)?;
        if p.peek() == Some(b':') {
            p.i += 1;
            second = p.digits(2, 2).ok_or_else(e)?;
            if matches!(p.peek(), Some(b'.' | b',')) {
                p.i += 1;
                let start = p.i;
                while matches!(p.peek(), Some(b'0'..=b'9')) {
                    p.i += 1;
                }
                let frac = &b[start..p.i];
                if frac.is_empty() {
                    return Err(e());
                }
                // Digits past nanoseconds are dropped, as Java's parsers truncate.
                let mut n: i64 = 0;
                for k in 0..9 {
                    n = n * 10 + frac.get(k).map_or(0, |d| i64::from(d - b'0'));
                }
                nanos = n;
            }
        }
    }
    let offset_secs: i64 = match p.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            p.i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            p.i += 1;
            let oh = p.digits(2, 2).ok_or_else(e)?;
            let om = if p.peek() == Some(b':') {
                p.i += 1;
                p.digits(2, 2).ok_or_else(e)?
            } else if matches!(p.peek(), Some(b'0'..=b'9')) {
                p.digits(2, 2).ok_or_else(e)?
            } else {
                0
            };
            let secs = oh * 3600 + om * 60;
            if sign == b'-' { -secs } else { secs }
        }
        Some(_) => return Err(e()),
    };
    if p.i != b.len() {
        return Err(e());
    }
    let dt = DateTime::new(
        i16::try_from(year).map_err(|_| e())?,
        i8::try_from(month).map_err(|_| e())?,
        i8::try_from(day).map_err(|_| e())?,
        i8::try_from(hour).map_err(|_| e())?,
        i8::try_from(minute).map_err(|_| e())?,
        i8::try_from(second).map_err(|_| e())?,
        i32::try_from(nanos).map_err(|_| e())?,
    )
    .map_err(|_| e())?;
    let offset =
        Offset::from_seconds(i32::try_from(offset_secs).map_err(|_| e())?).map_err(|_| e())?;
    offset.to_timestamp(dt).map_err(|_| e())
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        let mut n: i64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    n = n * 10 + i64::from(d - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(n)
    }
}

/// Epoch milliseconds (fractions allowed) to a timestamp.
pub fn parse_epoch_millis(ms: f64) -> Result<Timestamp, TimeError> {
    if !ms.is_finite() {
        return Err(err("epoch milliseconds", &ms.to_string()));
    }
    let nanos = (ms * 1_000_000.0) as i128;
    Timestamp::from_nanosecond(nanos).map_err(|_| err("epoch milliseconds", &ms.to_string()))
}

/// Elasticsearch's default date format, `strict_date_optional_time||epoch_millis`.
pub fn parse_es_date(s: &str) -> Result<Timestamp, TimeError> {
    let t = s.trim();
    parse_rfc3339(t).or_else(|e| t.parse::<f64>().map_err(|_| e).and_then(parse_epoch_millis))
}

/// Formats as Elasticsearch prints a `date` field: UTC, millisecond precision, `Z`.
pub fn format_es_date(t: Timestamp) -> String {
    // Truncate towards the past (not towards zero) so that ordering survives formatting.
    let ms = i64::try_from(t.as_nanosecond().div_euclid(1_000_000)).unwrap_or(i64::MAX);
    let t = Timestamp::from_millisecond(ms).unwrap_or(t);
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A date as text: milliseconds, as Elasticsearch writes dates, unless the value is finer
/// (Kusto datetimes have 100 ns ticks), then as many digits as it needs.
pub fn format_date(t: Timestamp) -> String {
    // Before 1970 jiff's sub-second part is negative: keep the millisecond form there.
    if t.subsec_nanosecond() % 1_000_000 == 0 || t.as_second() < 0 {
        return format_es_date(t);
    }
    let whole = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = format!("{:09}", t.subsec_nanosecond().rem_euclid(1_000_000_000));
    format!("{whole}.{}Z", nanos.trim_end_matches('0'))
}

/// Parses an Elasticsearch duration (`5m`, `1h`, `30s`, `7d`, `500ms`, `2w`), as used by rule
/// `interval`, `from` date math and `maxspan`.
pub fn parse_duration_es(s: &str) -> Result<SignedDuration, TimeError> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '+'))
        .ok_or_else(|| err("duration", s))?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| err("duration", s))?;
    let unit_nanos: i64 = match unit {
        "nanos" | "ns" => 1,
        "micros" | "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" | "H" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        "w" => 7 * 86_400_000_000_000,
        _ => return Err(err("duration", s)),
    };
    n.checked_mul(unit_nanos)
        .map(SignedDuration::from_nanos)
        .ok_or_else(|| err("duration", s))
}

#[cfg(test)]
mod tests {

    #[test]
    fn dates_keep_finer_than_millisecond_ticks() {
        let t = |s: &str| format_date(s.parse().unwrap());
        assert_eq!(t("2026-05-18T10:10:00Z"), "2026-05-18T10:10:00.000Z");
        assert_eq!(t("2026-05-18T10:10:00.12Z"), "2026-05-18T10:10:00.120Z");
        assert_eq!(
            t("2026-05-18T10:10:00.1234567Z"),
            "2026-05-18T10:10:00.1234567Z"
        );
        assert_eq!(
            t("2026-05-18T10:10:00.000000001Z"),
            "2026-05-18T10:10:00.000000001Z"
        );
    }

    use super::*;

    fn ts(s: &str) -> String {
        format_es_date(parse_rfc3339(s).unwrap())
    }

    #[test]
    fn rfc3339_forms() {
        assert_eq!(ts("2007-01-09T09:41:00"), "2007-01-09T09:41:00.000Z");
        assert_eq!(ts("2007-01-09T09:41:00.22Z"), "2007-01-09T09:41:00.220Z");
        assert_eq!(
            ts("2007-01-09T09:41:00.6816663Z"),
            "2007-01-09T09:41:00.681Z"
        );
        assert_eq!(
            ts("2007-01-09T09:41:00.535404056Z"),
            "2007-01-09T09:41:00.535Z"
        );
        assert_eq!(
            ts("2007-01-09T09:41:00.992099+00:00"),
            "2007-01-09T09:41:00.992Z"
        );
        assert_eq!(ts("2007-01-09T11:41:00+02:00"), "2007-01-09T09:41:00.000Z");
        assert_eq!(ts("2007-01-09T11:41:00+0200"), "2007-01-09T09:41:00.000Z");
        assert_eq!(ts("2007-01-09"), "2007-01-09T00:00:00.000Z");
        assert_eq!(ts("2007-01-09 09:41"), "2007-01-09T09:41:00.000Z");
        assert!(parse_rfc3339("2007-13-09T00:00:00Z").is_err());
        assert!(parse_rfc3339("2007-01-09T00:00:00Zjunk").is_err());
        assert!(parse_rfc3339("").is_err());
    }

    #[test]
    fn es_default_format_accepts_epoch_millis() {
        assert_eq!(
            format_es_date(parse_es_date("1571875726000").unwrap()),
            "2019-10-24T00:08:46.000Z"
        );
        assert_eq!(
            format_es_date(parse_es_date("2019-10-24").unwrap()),
            "2019-10-24T00:00:00.000Z"
        );
    }

    #[test]
    fn formatting_truncates_towards_the_past() {
        let t = Timestamp::from_nanosecond(-1).unwrap();
        assert_eq!(format_es_date(t), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration_es("5m").unwrap(),
            SignedDuration::from_mins(5)
        );
        assert_eq!(
            parse_duration_es("-9m").unwrap(),
            SignedDuration::from_mins(-9)
        );
        assert_eq!(
            parse_duration_es("7d").unwrap(),
            SignedDuration::from_hours(168)
        );
        assert_eq!(
            parse_duration_es("500ms").unwrap(),
            SignedDuration::from_millis(500)
        );
        assert!(parse_duration_es("5x").is_err());
        assert!(parse_duration_es("m").is_err());
    }
}
