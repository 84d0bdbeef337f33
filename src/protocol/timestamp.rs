//! The protocol timestamp: an RFC 1123-like date that clients put in the
//! `timestamp` parameter and that is part of the signed data.
//!
//! Calendar math is done here (proleptic Gregorian, days-from-civil) so the
//! service needs no date crate for this one format.

use std::fmt;
use std::str::FromStr;

pub use crate::wire::{Timestamp, TimestampError, EXAMPLE};

const SECONDS_PER_DAY: i64 = 86_400;
/// 1970-01-01 was a Thursday; index into `WEEKDAYS` (Sunday = 0).
const EPOCH_WEEKDAY: i64 = 4;
/// Longest input echoed back in an error, so a hostile header cannot blow up
/// logs or responses.
const MAX_SHOWN_CHARS: usize = 64;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const WEEKDAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Timestamp {
    /// Parses `Www, DD Mon YYYY HH:MM:SS ZONE`.
    ///
    /// ZONE is `UTC`, `GMT` or `+0000`; the day may have one digit; names are
    /// English and case-insensitive; runs of spaces are tolerated. Years are
    /// 1970–9999. A leap second (`:60`) is rejected rather than folded into
    /// `:59`, because clients take the time from a normal clock and an
    /// ambiguous second would only weaken replay checks.
    pub fn parse(s: &str) -> Result<Self, TimestampError> {
        let syntax = || TimestampError::Syntax { input: shown(s) };
        let range = |field| TimestampError::OutOfRange {
            input: shown(s),
            field,
        };

        let mut tokens = s.trim().split(' ').filter(|t| !t.is_empty());
        let (Some(wd), Some(day), Some(mon), Some(year), Some(time), Some(zone), None) = (
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
            tokens.next(),
        ) else {
            return Err(syntax());
        };

        let weekday = wd
            .strip_suffix(',')
            .and_then(|w| lookup(&WEEKDAYS, w))
            .ok_or_else(syntax)?;
        let day = digits(day, 1, 2).ok_or_else(syntax)?;
        let month = lookup(&MONTHS, mon).ok_or_else(syntax)? + 1;
        let year = digits(year, 4, 4).ok_or_else(syntax)?;
        let mut hms = time.split(':');
        let (Some(h), Some(m), Some(sec), None) = (hms.next(), hms.next(), hms.next(), hms.next())
        else {
            return Err(syntax());
        };
        let hour = digits(h, 2, 2).ok_or_else(syntax)?;
        let minute = digits(m, 2, 2).ok_or_else(syntax)?;
        let second = digits(sec, 2, 2).ok_or_else(syntax)?;
        if !(zone.eq_ignore_ascii_case("UTC")
            || zone.eq_ignore_ascii_case("GMT")
            || zone == "+0000")
        {
            return Err(syntax());
        }

        if !(1970..=9999).contains(&year) {
            return Err(range("year"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(range("day"));
        }
        if hour > 23 {
            return Err(range("hour"));
        }
        if minute > 59 {
            return Err(range("minute"));
        }
        if second > 59 {
            return Err(range("second"));
        }

        let days = days_from_civil(year, month, day);
        let actual = weekday_of(days);
        if actual != weekday {
            return Err(TimestampError::WrongWeekday {
                input: shown(s),
                date: format!("{day} {} {year}", name(&MONTHS, month - 1)),
                actual: name(&WEEKDAY_NAMES, actual),
            });
        }
        Ok(Timestamp::from_unix(
            days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second,
        ))
    }

    /// Canonical form: two-digit day and `UTC`, e.g. [`EXAMPLE`].
    pub fn format(self) -> String {
        let days = self.unix().div_euclid(SECONDS_PER_DAY);
        let secs = self.unix().rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} UTC",
            name(&WEEKDAYS, weekday_of(days)),
            day,
            name(&MONTHS, month - 1),
            year,
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

impl Timestamp {
    /// ISO 8601 / RFC 3339 in UTC, e.g. `2012-07-26T14:53:44Z` (the REST
    /// users API's times).
    pub fn iso8601(self) -> String {
        let days = self.unix().div_euclid(SECONDS_PER_DAY);
        let secs = self.unix().rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

/// Index of `token` in `names`, ignoring ASCII case.
fn lookup(names: &[&str], token: &str) -> Option<i64> {
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(token))
        .and_then(|i| i64::try_from(i).ok())
}

/// `names[i]` without a panicking index; out-of-range cannot happen for the
/// values computed here, but a placeholder beats a crash.
fn name(names: &[&'static str], i: i64) -> &'static str {
    usize::try_from(i)
        .ok()
        .and_then(|i| names.get(i))
        .copied()
        .unwrap_or("???")
}

/// Decimal number of `min..=max` ASCII digits (no sign, unlike `str::parse`).
fn digits(s: &str, min: usize, max: usize) -> Option<i64> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        s.bytes()
            .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0')),
    )
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Sunday = 0.
fn weekday_of(days_since_epoch: i64) -> i64 {
    (days_since_epoch + EPOCH_WEEKDAY).rem_euclid(7)
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's
/// algorithm, with March-based years so leap days fall at the year's end).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month 1–12, day 1–31).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The input as echoed in errors: capped and without control characters.
fn shown(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_SHOWN_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().nth(MAX_SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 9999-12-31 23:59:59 UTC, the last accepted second.
    const MAX_UNIX: i64 = 253_402_300_799;

    fn ts(s: &str) -> Result<i64, TimestampError> {
        Timestamp::parse(s).map(Timestamp::unix)
    }

    #[test]
    fn parses_panthermedia_sample() {
        assert_eq!(ts("Thu, 26 Jul 2012 14:53:44 UTC"), Ok(1_343_314_424));
    }

    #[test]
    fn formats_panthermedia_sample() {
        let t = Timestamp::from_unix(1_343_314_424);
        assert_eq!(t.format(), "Thu, 26 Jul 2012 14:53:44 UTC");
        assert_eq!(t.to_string(), t.format());
    }

    #[test]
    fn epoch_and_last_second() {
        assert_eq!(ts("Thu, 01 Jan 1970 00:00:00 UTC"), Ok(0));
        assert_eq!(ts("Fri, 31 Dec 9999 23:59:59 UTC"), Ok(MAX_UNIX));
        assert_eq!(
            Timestamp::from_unix(MAX_UNIX).format(),
            "Fri, 31 Dec 9999 23:59:59 UTC"
        );
    }

    #[test]
    fn zones_are_equivalent() {
        let want = Ok(1_343_314_424);
        assert_eq!(ts("Thu, 26 Jul 2012 14:53:44 GMT"), want);
        assert_eq!(ts("Thu, 26 Jul 2012 14:53:44 +0000"), want);
        assert_eq!(ts("Thu, 26 Jul 2012 14:53:44 utc"), want);
        assert!(matches!(
            ts("Thu, 26 Jul 2012 14:53:44 +0100"),
            Err(TimestampError::Syntax { .. })
        ));
        assert!(ts("Thu, 26 Jul 2012 14:53:44 CET").is_err());
        assert!(ts("Thu, 26 Jul 2012 14:53:44").is_err());
    }

    #[test]
    fn one_digit_day() {
        assert_eq!(
            ts("Thu, 2 Aug 2012 00:00:00 UTC"),
            ts("Thu, 02 Aug 2012 00:00:00 UTC")
        );
        assert!(ts("Thu, 2 Aug 2012 00:00:00 UTC").is_ok());
        assert!(ts("Thu, 002 Aug 2012 00:00:00 UTC").is_err());
    }

    #[test]
    fn case_insensitive_names() {
        let want = Ok(1_343_314_424);
        assert_eq!(ts("thu, 26 jul 2012 14:53:44 UTC"), want);
        assert_eq!(ts("THU, 26 JUL 2012 14:53:44 UTC"), want);
        assert!(ts("Thursday, 26 July 2012 14:53:44 UTC").is_err());
    }

    #[test]
    fn whitespace() {
        let want = Ok(1_343_314_424);
        assert_eq!(ts("  Thu, 26 Jul 2012 14:53:44 UTC \n"), want);
        assert_eq!(ts("Thu,   26  Jul 2012    14:53:44  UTC"), want);
        assert_eq!(ts("\tThu, 26 Jul 2012 14:53:44 UTC\t"), want);
    }

    #[test]
    fn malformed_shapes() {
        for bad in [
            "",
            "   ",
            "xyz",
            "Thu, 26Jul 2012 14:53:44 UTC",
            "Thu,26 Jul 2012 14:53:44 UTC",
            "Thu 26 Jul 2012 14:53:44 UTC",
            "Thu, 26 Jul 12 14:53:44 UTC",
            "Thu, 26 Jul 2012 14:53 UTC",
            "Thu, 26 Jul 2012 14:53:44:00 UTC",
            "Thu, 26 Jul 2012 4:53:44 UTC",
            "Thu, +6 Jul 2012 14:53:44 UTC",
            "Thu, 26 Jul +201 14:53:44 UTC",
            "Thu, 26 Jul 2012 14:53:44 UTC extra",
            "Thu, 26 Jux 2012 14:53:44 UTC",
            "Thx, 26 Jul 2012 14:53:44 UTC",
            "Thu,\t26 Jul 2012 14:53:44 UTC",
            "Thu, 26 Jul 2012 １4:53:44 UTC",
        ] {
            assert!(
                matches!(ts(bad), Err(TimestampError::Syntax { .. })),
                "{bad:?} -> {:?}",
                ts(bad)
            );
        }
    }

    #[test]
    fn error_message_shows_expected_format() {
        let err = Timestamp::parse("xyz").err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("invalid timestamp 'xyz', expected e.g. 'Thu, 26 Jul 2012 14:53:44 UTC'".into())
        );
    }

    #[test]
    fn ranges() {
        let field = |s: &str| match ts(s) {
            Err(TimestampError::OutOfRange { field, .. }) => Some(field),
            _ => None,
        };
        assert_eq!(field("Wed, 31 Dec 1969 23:59:59 UTC"), Some("year"));
        assert_eq!(field("Sat, 01 Jan 0000 00:00:00 UTC"), Some("year"));
        assert_eq!(field("Thu, 00 Jul 2012 14:53:44 UTC"), Some("day"));
        assert_eq!(field("Thu, 32 Jul 2012 14:53:44 UTC"), Some("day"));
        assert_eq!(field("Thu, 31 Apr 2012 14:53:44 UTC"), Some("day"));
        assert_eq!(field("Thu, 26 Jul 2012 24:00:00 UTC"), Some("hour"));
        assert_eq!(field("Thu, 26 Jul 2012 14:60:00 UTC"), Some("minute"));
        assert_eq!(field("Thu, 26 Jul 2012 14:53:60 UTC"), Some("second"));
        assert_eq!(field("Thu, 26 Jul 2012 14:53:99 UTC"), Some("second"));
        assert!(ts("Tue, 31 Jul 2012 23:59:59 UTC").is_ok());
        assert!(ts("Sat, 30 Jun 2012 00:00:00 UTC").is_ok());
    }

    #[test]
    fn leap_years() {
        assert!(ts("Wed, 29 Feb 2012 00:00:00 UTC").is_ok());
        assert!(ts("Tue, 29 Feb 2000 00:00:00 UTC").is_ok());
        assert!(matches!(
            ts("Thu, 29 Feb 2001 00:00:00 UTC"),
            Err(TimestampError::OutOfRange { field: "day", .. })
        ));
        assert!(matches!(
            ts("Mon, 29 Feb 2100 00:00:00 UTC"),
            Err(TimestampError::OutOfRange { field: "day", .. })
        ));
        assert_eq!(ts("Thu, 01 Mar 2012 00:00:00 UTC"), Ok(1_330_560_000));
    }

    #[test]
    fn wrong_weekday_names_the_real_one() {
        let err = Timestamp::parse("Fri, 26 Jul 2012 14:53:44 UTC").err();
        assert_eq!(
            err,
            Some(TimestampError::WrongWeekday {
                input: "Fri, 26 Jul 2012 14:53:44 UTC".into(),
                date: "26 Jul 2012".into(),
                actual: "Thursday",
            })
        );
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("is a Thursday"), "{msg}");
        assert!(msg.contains(EXAMPLE), "{msg}");
    }

    #[test]
    fn from_str_and_display() {
        let t: Result<Timestamp, _> = "Thu, 26 Jul 2012 14:53:44 UTC".parse();
        assert_eq!(t, Ok(Timestamp::from_unix(1_343_314_424)));
        assert_eq!(
            Timestamp::from_unix(1_343_314_424).to_string(),
            "Thu, 26 Jul 2012 14:53:44 UTC"
        );
    }

    #[test]
    fn error_echo_is_capped_and_sanitised() {
        let long = format!("\u{1}{}", "x".repeat(1000));
        let Err(TimestampError::Syntax { input }) = Timestamp::parse(&long) else {
            panic!("expected a syntax error");
        };
        assert!(input.starts_with('?'));
        assert_eq!(input.chars().count(), MAX_SHOWN_CHARS + 1);
    }

    #[test]
    fn format_never_panics_on_extremes() {
        for s in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            let _ = Timestamp::from_unix(s).format();
        }
        assert_eq!(
            Timestamp::from_unix(-1).format(),
            "Wed, 31 Dec 1969 23:59:59 UTC"
        );
    }

    #[test]
    fn iso8601_of_the_sample() {
        let t = Timestamp::parse(EXAMPLE).unwrap();
        assert_eq!(t.iso8601(), "2012-07-26T14:53:44Z");
        assert_eq!(Timestamp::from_unix(0).iso8601(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn civil_roundtrip_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(days_from_civil(9999, 12, 31), MAX_UNIX / SECONDS_PER_DAY);
    }

    proptest! {
        #[test]
        fn roundtrip_and_variants(t in 0i64..=MAX_UNIX) {
            let t = Timestamp::from_unix(t);
            let s = t.format();
            prop_assert_eq!(Timestamp::parse(&s), Ok(t));

            let base = s.strip_suffix(" UTC").unwrap_or(&s).to_owned();
            prop_assert_eq!(Timestamp::parse(&format!("{base} GMT")), Ok(t));
            prop_assert_eq!(Timestamp::parse(&format!("{base} +0000")), Ok(t));
            prop_assert_eq!(Timestamp::parse(&s.to_ascii_lowercase()), Ok(t));

            // "Thu, 02 Aug" -> "Thu, 2 Aug"
            if let Some((wd, rest)) = s.split_once(", 0") {
                let short = format!("{wd}, {rest}");
                prop_assert_eq!(Timestamp::parse(&short), Ok(t));
            }
        }

        #[test]
        fn days_roundtrip(days in -1_000_000i64..=3_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m));
            prop_assert!(d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            let _ = Timestamp::parse(&s);
        }

        #[test]
        fn near_miss_strings_never_panic(
            wd in "[A-Za-z]{0,4},?",
            day in "[0-9]{0,3}",
            mon in "[A-Za-z]{0,4}",
            year in "[0-9+-]{0,6}",
            time in "[0-9:]{0,10}",
            zone in "(UTC|GMT|\\+0000|[A-Z+0-9]{0,5})",
            sep in " {0,3}",
        ) {
            let s = [wd, day, mon, year, time, zone].join(&sep);
            let _ = Timestamp::parse(&s);
        }

        #[test]
        fn format_never_panics(t in any::<i64>()) {
            let _ = Timestamp::from_unix(t).format();
        }
    }
}
