//! Go's two renderings of a `time.Time` read from RFC 3339: `String()` and its JSON form.

/// A timestamp as the API sends it (`Created`), kept as text: weft only reformats it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoTime {
    /// `YYYY-MM-DD`
    date: String,
    /// `HH:MM:SS`
    clock: String,
    /// Fractional seconds without trailing zeros, possibly empty.
    fraction: String,
    /// Offset east of UTC in minutes.
    offset_minutes: i32,
}

impl GoTime {
    /// Go's zero time, what Docker shows for a missing or unreadable timestamp.
    pub fn zero() -> Self {
        Self { date: "0001-01-01".into(), clock: "00:00:00".into(), fraction: String::new(), offset_minutes: 0 }
    }

    /// Reads `2006-01-02T15:04:05.999999999Z07:00`; the zero time when `s` is not RFC 3339.
    pub fn parse(s: &str) -> Self {
        Self::try_parse(s).unwrap_or_else(Self::zero)
    }

    fn try_parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let shape = digits(0..4)
            && b.get(4) == Some(&b'-')
            && digits(5..7)
            && b.get(7) == Some(&b'-')
            && digits(8..10)
            && matches!(b.get(10), Some(b'T' | b't' | b' '))
            && digits(11..13)
            && b.get(13) == Some(&b':')
            && digits(14..16)
            && b.get(16) == Some(&b':')
            && digits(17..19);
        if !shape {
            return None;
        }
        let mut rest = &s[19..];
        let mut fraction = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            fraction = &after_dot[..n];
            rest = &after_dot[n..];
        }
        let offset_minutes = match rest {
            "Z" | "z" => 0,
            _ => {
                let ob = rest.as_bytes();
                let ok = ob.len() == 6
                    && matches!(ob[0], b'+' | b'-')
                    && ob[1..3].iter().all(u8::is_ascii_digit)
                    && ob[3] == b':'
                    && ob[4..6].iter().all(u8::is_ascii_digit);
                if !ok {
                    return None;
                }
                let hours: i32 = rest[1..3].parse().ok()?;
                let minutes: i32 = rest[4..6].parse().ok()?;
                let total = hours * 60 + minutes;
                if ob[0] == b'-' {
                    -total
                } else {
                    total
                }
            }
        };
        // Go keeps nanoseconds: more digits than nine are dropped, trailing zeros never show.
        let fraction = fraction.get(..9).unwrap_or(fraction).trim_end_matches('0').to_string();
        Some(Self { date: s[..10].to_string(), clock: s[11..19].to_string(), fraction, offset_minutes })
    }

    fn fraction_suffix(&self) -> String {
        if self.fraction.is_empty() {
            String::new()
        } else {
            format!(".{}", self.fraction)
        }
    }

    /// `time.Time.String()`: `2016-01-01 00:00:00.5 +0000 UTC`.
    ///
    /// A non-zero offset is shown as Go shows an unnamed zone (`+0200 +0200`); Go would use the
    /// local zone's name when the offset is the machine's own.
    pub fn go_string(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let abs = self.offset_minutes.abs();
        let numeric = format!("{sign}{:02}{:02}", abs / 60, abs % 60);
        let zone = if self.offset_minutes == 0 { "UTC".to_string() } else { numeric.clone() };
        format!("{} {}{} {numeric} {zone}", self.date, self.clock, self.fraction_suffix())
    }

    /// `time.Time.MarshalJSON()` without the quotes: RFC 3339 with nanoseconds, `Z` for UTC.
    pub fn rfc3339_nano(&self) -> String {
        let zone = if self.offset_minutes == 0 {
            "Z".to_string()
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let abs = self.offset_minutes.abs();
            format!("{sign}{:02}:{:02}", abs / 60, abs % 60)
        };
        format!("{}T{}{}{zone}", self.date, self.clock, self.fraction_suffix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_string_of_utc_times() {
        assert_eq!(GoTime::parse("2016-01-01T00:00:00Z").go_string(), "2016-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            GoTime::parse("2024-05-06T07:08:09.123456789Z").go_string(),
            "2024-05-06 07:08:09.123456789 +0000 UTC"
        );
        assert_eq!(GoTime::parse("2024-05-06T07:08:09.120Z").go_string(), "2024-05-06 07:08:09.12 +0000 UTC");
    }

    #[test]
    fn offsets_and_bad_input() {
        let t = GoTime::parse("2024-05-06T07:08:09.5+02:00");
        assert_eq!(t.go_string(), "2024-05-06 07:08:09.5 +0200 +0200");
        assert_eq!(t.rfc3339_nano(), "2024-05-06T07:08:09.5+02:00");
        assert_eq!(GoTime::parse("yesterday").go_string(), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(GoTime::parse("").rfc3339_nano(), "0001-01-01T00:00:00Z");
    }
}
