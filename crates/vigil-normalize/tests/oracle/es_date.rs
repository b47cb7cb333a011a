//! The pipeline's `date` processor on `azure.activitylogs.time`: the formats are tried in order
//! and the first that parses the whole text wins; a text without a zone is UTC (the processor's
//! default timezone). The result is printed in the processor's default output format,
//! `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in UTC, which truncates to milliseconds.
//!
//! Formats, as Java's strict parser reads them:
//! - `ISO8601`: Elasticsearch's `iso8601` formatter: `yyyy[-MM[-dd]]` (exactly 4, 2, 2 digits),
//!   then optionally `T[HH[:mm[:ss[.f{1,9}][,f{1,9}]]]]` and a zone (`Z`, `±HH[:MM[:SS]]`, `±HHMM`,
//!   `UTC`/`GMT`/`UT` with an optional offset). Region ids (`Europe/Paris`) are not supported here.
//! - `M/d/yyyy h:mm:ss a XXX`, `M/d/yyyy h:mm:ss a`, `M/d/yyyy H:mm:ss`: one-letter fields take one
//!   or more digits, `mm`/`ss` exactly two, `a` is `AM`/`PM` (case-sensitive), `XXX` is `Z` or
//!   `±HH:MM`.
//! - `yyyy-MM-dd'T'H:mm:ss.SSS'Z'`: exactly three fraction digits and a literal `Z`.
//!
//! Fields are checked as `ResolverStyle.STRICT` does (month 1–12, a real day, hour 0–23, clock
//! hour 1–12, minute and second 0–59). Years are limited to 0001–9999.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};

/// Parses `time` with the pipeline's formats, in order.
pub(crate) fn parse_activity_time(text: &str) -> Option<Timestamp> {
    iso8601(text)
        .or_else(|| us_clock(text, true))
        .or_else(|| us_clock(text, false))
        .or_else(|| us_24h(text))
        .or_else(|| iso_millis_z(text))
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in UTC: what the date processor writes to `@timestamp`.
pub(crate) fn format_millis(ts: Timestamp) -> String {
    // Through the civil time: its sub-second part is never negative, so instants before 1970
    // truncate towards the past as Java's formatter does.
    let dt = ts.to_zoned_datetime(TimeZone::UTC).datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1_000_000
    )
}

/// Seconds precision, `Z`: how Fleet's final pipeline writes `event.ingested`.
pub(crate) fn format_seconds(ts: Timestamp) -> String {
    let dt = ts.to_zoned_datetime(TimeZone::UTC).datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[derive(Default)]
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    nanos: i64,
    /// Seconds east of UTC; `None` means the processor's timezone (UTC).
    offset: Option<i64>,
}

impl Fields {
    fn date(year: i64, month: i64, day: i64) -> Fields {
        Fields {
            year,
            month,
            day,
            ..Fields::default()
        }
    }

    fn to_timestamp(&self) -> Option<Timestamp> {
        let date = Date::new(
            i16::try_from(self.year).ok().filter(|y| *y >= 1)?,
            i8::try_from(self.month).ok()?,
            i8::try_from(self.day).ok()?,
        )
        .ok()?;
        let time = Time::new(
            i8::try_from(self.hour).ok()?,
            i8::try_from(self.minute).ok()?,
            i8::try_from(self.second).ok()?,
            i32::try_from(self.nanos).ok()?,
        )
        .ok()?;
        let offset = Offset::from_seconds(i32::try_from(self.offset.unwrap_or(0)).ok()?).ok()?;
        offset.to_timestamp(DateTime::from_parts(date, time)).ok()
    }
}

/// A position in the text; optional sections restore it when they fail, as Java's optional
/// parser sections do.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Cur<'a> {
        Cur {
            b: s.as_bytes(),
            i: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.i == self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn lit(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn lit_str(&mut self, s: &str) -> Option<()> {
        self.b[self.i..]
            .starts_with(s.as_bytes())
            .then(|| self.i += s.len())
    }

    /// Between `min` and `max` ASCII digits, greedy.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        let mut n: i64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
                    self.i += 1;
                }
                _ => break,
            }
        }
        if self.i - start >= min {
            Some(n)
        } else {
            self.i = start;
            None
        }
    }

    /// A fraction of a second of `min..=max` digits, as nanoseconds.
    fn fraction(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        self.digits(min, max)?;
        let digits = &self.b[start..self.i];
        let mut nanos = 0i64;
        for k in 0..9 {
            nanos = nanos * 10 + digits.get(k).map_or(0, |d| i64::from(d - b'0'));
        }
        Some(nanos)
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.i;
        let r = f(self);
        if r.is_none() {
            self.i = start;
        }
        r
    }

    fn sign(&mut self) -> Option<i64> {
        match self.peek()? {
            b'+' => {
                self.i += 1;
                Some(1)
            }
            b'-' => {
                self.i += 1;
                Some(-1)
            }
            _ => None,
        }
    }

    /// `±HH:MM` (colon required) or `Z`: the `XXX` pattern.
    fn offset_colon(&mut self) -> Option<i64> {
        if self.lit(b'Z').is_some() {
            return Some(0);
        }
        let sign = self.sign()?;
        let h = self.digits(2, 2)?;
        self.lit(b':')?;
        let m = self.digits(2, 2)?;
        offset_seconds(sign, h, m, 0)
    }

    /// `appendZoneOrOffsetId`: `Z`, `±HH:MM[:SS]`, or `UTC`/`GMT`/`UT` with an optional offset.
    fn zone_or_offset_id(&mut self) -> Option<i64> {
        if self.lit(b'Z').is_some() {
            return Some(0);
        }
        if matches!(self.peek(), Some(b'+' | b'-')) {
            return self.offset_id();
        }
        let prefixed = self
            .lit_str("UTC")
            .or_else(|| self.lit_str("GMT"))
            .or_else(|| self.lit_str("UT"));
        prefixed?;
        Some(self.opt(|c| c.offset_id()).unwrap_or(0))
    }

    fn offset_id(&mut self) -> Option<i64> {
        let sign = self.sign()?;
        let h = self.digits(2, 2)?;
        // `+HH:MM:ss`: the minutes are mandatory here; `+02` and `+0200` are left to the
        // no-colon offset that follows in the format.
        self.lit(b':')?;
        let m = self.digits(2, 2)?;
        let s = self
            .opt(|c| {
                c.lit(b':')?;
                c.digits(2, 2)
            })
            .unwrap_or(0);
        offset_seconds(sign, h, m, s)
    }

    /// `appendOffset("+HHmm", "Z")`: `Z`, `±HH` or `±HHMM`.
    fn offset_no_colon(&mut self) -> Option<i64> {
        if self.lit(b'Z').is_some() {
            return Some(0);
        }
        let sign = self.sign()?;
        let h = self.digits(2, 2)?;
        let m = self.opt(|c| c.digits(2, 2)).unwrap_or(0);
        offset_seconds(sign, h, m, 0)
    }
}

fn offset_seconds(sign: i64, h: i64, m: i64, s: i64) -> Option<i64> {
    (h <= 18 && m <= 59 && s <= 59).then_some(sign * (h * 3600 + m * 60 + s))
}

fn iso8601(text: &str) -> Option<Timestamp> {
    let mut c = Cur::new(text);
    let year = c.digits(4, 4)?;
    let (month, day) = c
        .opt(|c| {
            c.lit(b'-')?;
            let m = c.digits(2, 2)?;
            let d = c.opt(|c| {
                c.lit(b'-')?;
                c.digits(2, 2)
            });
            Some((m, d.unwrap_or(1)))
        })
        .unwrap_or((1, 1));
    let mut f = Fields::date(year, month, day);
    let t_section = c.opt(|c| {
        c.lit(b'T')?;
        let time = c.opt(|c| {
            let h = c.digits(2, 2)?;
            let rest = c.opt(|c| {
                c.lit(b':')?;
                let mi = c.digits(2, 2)?;
                let secs = c.opt(|c| {
                    c.lit(b':')?;
                    let s = c.digits(2, 2)?;
                    let dot = c.opt(|c| {
                        c.lit(b'.')?;
                        c.fraction(1, 9)
                    });
                    let comma = c.opt(|c| {
                        c.lit(b',')?;
                        c.fraction(1, 9)
                    });
                    Some((s, dot, comma))
                });
                Some((mi, secs))
            });
            Some((h, rest))
        });
        let zone = c.opt(|c| c.zone_or_offset_id());
        let zone_no_colon = c.opt(|c| c.offset_no_colon());
        Some((time, zone, zone_no_colon))
    });
    if !c.at_end() {
        return None;
    }
    if let Some((time, zone, zone_no_colon)) = t_section {
        if let Some((h, rest)) = time {
            f.hour = h;
            if let Some((mi, secs)) = rest {
                f.minute = mi;
                if let Some((s, dot, comma)) = secs {
                    f.second = s;
                    // The same field parsed twice must agree, or Java reports a conflict.
                    f.nanos = match (dot, comma) {
                        (Some(a), Some(b)) if a != b => return None,
                        (a, b) => a.or(b).unwrap_or(0),
                    };
                }
            }
        }
        f.offset = match (zone, zone_no_colon) {
            (Some(a), Some(b)) if a != b => return None,
            (a, b) => a.or(b),
        };
    }
    f.to_timestamp()
}

/// `M/d/yyyy` with one-or-more-digit month and day.
fn us_date(c: &mut Cur<'_>) -> Option<(i64, i64, i64)> {
    let m = c.digits(1, 19)?;
    c.lit(b'/')?;
    let d = c.digits(1, 19)?;
    c.lit(b'/')?;
    let y = c.digits(4, 19)?;
    Some((y, m, d))
}

/// `M/d/yyyy h:mm:ss a[ XXX]`.
fn us_clock(text: &str, with_zone: bool) -> Option<Timestamp> {
    let mut c = Cur::new(text);
    let (y, mo, d) = us_date(&mut c)?;
    c.lit(b' ')?;
    let clock_hour = c.digits(1, 19)?;
    c.lit(b':')?;
    let mi = c.digits(2, 2)?;
    c.lit(b':')?;
    let s = c.digits(2, 2)?;
    c.lit(b' ')?;
    let pm = if c.lit_str("AM").is_some() {
        false
    } else {
        c.lit_str("PM")?;
        true
    };
    let offset = if with_zone {
        c.lit(b' ')?;
        Some(c.offset_colon()?)
    } else {
        None
    };
    if !c.at_end() || !(1..=12).contains(&clock_hour) {
        return None;
    }
    let mut f = Fields::date(y, mo, d);
    f.hour = clock_hour % 12 + if pm { 12 } else { 0 };
    f.minute = mi;
    f.second = s;
    f.offset = offset;
    f.to_timestamp()
}

/// `M/d/yyyy H:mm:ss`.
fn us_24h(text: &str) -> Option<Timestamp> {
    let mut c = Cur::new(text);
    let (y, mo, d) = us_date(&mut c)?;
    c.lit(b' ')?;
    let h = c.digits(1, 19)?;
    c.lit(b':')?;
    let mi = c.digits(2, 2)?;
    c.lit(b':')?;
    let s = c.digits(2, 2)?;
    if !c.at_end() {
        return None;
    }
    let mut f = Fields::date(y, mo, d);
    (f.hour, f.minute, f.second) = (h, mi, s);
    f.to_timestamp()
}

/// `yyyy-MM-dd'T'H:mm:ss.SSS'Z'` (the `Z` is a literal: the time is read in UTC).
fn iso_millis_z(text: &str) -> Option<Timestamp> {
    let mut c = Cur::new(text);
    let y = c.digits(4, 19)?;
    c.lit(b'-')?;
    let mo = c.digits(2, 2)?;
    c.lit(b'-')?;
    let d = c.digits(2, 2)?;
    c.lit(b'T')?;
    let h = c.digits(1, 19)?;
    c.lit(b':')?;
    let mi = c.digits(2, 2)?;
    c.lit(b':')?;
    let s = c.digits(2, 2)?;
    c.lit(b'.')?;
    let nanos = c.fraction(3, 3)?;
    c.lit(b'Z')?;
    if !c.at_end() {
        return None;
    }
    let mut f = Fields::date(y, mo, d);
    (f.hour, f.minute, f.second, f.nanos) = (h, mi, s, nanos);
    f.to_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Option<String> {
        parse_activity_time(s).map(format_millis)
    }

    #[test]
    fn iso8601_forms() {
        let t = |s| ts(s).unwrap_or_else(|| panic!("{s} should parse"));
        assert_eq!(
            t("2019-10-24T00:13:46.3554259Z"),
            "2019-10-24T00:13:46.355Z"
        );
        assert_eq!(t("2007-01-09T09:41:00"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("2007-01-09T09:41:00.22Z"), "2007-01-09T09:41:00.220Z");
        assert_eq!(
            t("2007-01-09T09:41:00.535404056Z"),
            "2007-01-09T09:41:00.535Z"
        );
        assert_eq!(
            t("2007-01-09T09:41:00.992099+00:00"),
            "2007-01-09T09:41:00.992Z"
        );
        assert_eq!(t("2007-01-09T11:41:00+02:00"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("2007-01-09T11:41:00+0200"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("2007-01-09T11:41:00+02"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("2007-01-09T09:41:00,5Z"), "2007-01-09T09:41:00.500Z");
        assert_eq!(
            t("2007-01-09T04:41:00UTC-05:00"),
            "2007-01-09T09:41:00.000Z"
        );
        assert_eq!(t("2007-01-09"), "2007-01-09T00:00:00.000Z");
        assert_eq!(t("2007-01"), "2007-01-01T00:00:00.000Z");
        assert_eq!(t("2007-01-09T09"), "2007-01-09T09:00:00.000Z");
        assert_eq!(t("2007-01-09T09:41"), "2007-01-09T09:41:00.000Z");
    }

    #[test]
    fn iso8601_rejections() {
        for bad in [
            "2007-01-09 09:41:00",             // space, not T
            "2007-1-09T09:41:00Z",             // one-digit month
            "2007-01-09T9:41:00Z",             // one-digit hour
            "2007-01-09T09:41:00.1234567890Z", // ten fraction digits
            "2007-02-30T00:00:00Z",            // no such day
            "2007-01-09T24:00:00Z",
            "2007-01-09t09:41:00z", // case-sensitive
            "1571875726000",        // epoch millis: not in the format list
            "",
        ] {
            assert_eq!(ts(bad), None, "{bad}");
        }
    }

    #[test]
    fn us_formats() {
        let t = |s| ts(s).unwrap_or_else(|| panic!("{s} should parse"));
        assert_eq!(t("01/09/2007 09:41:00"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("1/9/2007 09:41:00"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("01/09/2007 09:41:00 AM"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("1/9/2007 9:41:00 AM"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("1/9/2007 10:41:00 AM +01:00"), "2007-01-09T09:41:00.000Z");
        assert_eq!(t("1/9/2007 12:05:00 AM"), "2007-01-09T00:05:00.000Z");
        assert_eq!(t("1/9/2007 12:05:00 PM"), "2007-01-09T12:05:00.000Z");
        assert_eq!(t("1/9/2007 1:05:00 PM Z"), "2007-01-09T13:05:00.000Z");
        assert_eq!(t("1/9/2007 21:05:00"), "2007-01-09T21:05:00.000Z");
        assert_eq!(ts("1/9/2007 9:41:00 am"), None, "AM/PM is case-sensitive");
        assert_eq!(ts("1/9/2007 13:41:00 PM"), None, "clock hour is 1-12");
        assert_eq!(ts("1/9/2007 0:41:00 AM"), None);
        assert_eq!(ts("1/9/2007 9:41:00 AM +0100"), None, "XXX needs the colon");
        assert_eq!(ts("13/9/2007 09:41:00"), None);
    }

    #[test]
    fn millis_with_literal_z() {
        assert_eq!(
            ts("2007-01-09T9:41:00.123Z").as_deref(),
            Some("2007-01-09T09:41:00.123Z")
        );
        assert_eq!(ts("2007-01-09T9:41:00.12Z"), None);
    }

    #[test]
    fn output_truncates_towards_the_past() {
        let t = Timestamp::from_nanosecond(-500_000).unwrap();
        assert_eq!(format_millis(t), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_seconds(t), "1969-12-31T23:59:59Z");
    }
}
