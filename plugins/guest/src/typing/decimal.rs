//! Fixed-point numbers from text, exactly: `12.30` as `decimal(10,2)` is the integer 1230, read
//! digit by digit, never through a float. A value that does not fit is refused, never rounded:
//! more digits before the point than `precision - scale`, or digits other than zeros past
//! `scale` after it.

use std::fmt;

/// The type `decimal(precision, scale)`: `precision` digits in all (1 to 38, what 128 bits
/// hold), `scale` of them after the point (0 to `precision`). The constructor keeps both in
/// range, so every `DecimalType` is one the `decimal-values` record can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecimalType {
    precision: u8,
    scale: u8,
}

impl DecimalType {
    /// The most digits an `i128` holds in full.
    pub const MAX_PRECISION: u8 = 38;

    pub fn new(precision: u8, scale: u8) -> Option<DecimalType> {
        let fits = (1..=Self::MAX_PRECISION).contains(&precision) && scale <= precision;
        fits.then_some(DecimalType { precision, scale })
    }

    pub fn precision(self) -> u8 {
        self.precision
    }

    pub fn scale(self) -> u8 {
        self.scale
    }

    /// `decimal(p,s)` or `decimal(p)` (scale 0), spaces allowed inside the parentheses.
    pub fn from_name(name: &str) -> Option<DecimalType> {
        let inner = name.strip_prefix("decimal(")?.strip_suffix(')')?;
        let mut parts = inner.split(',').map(str::trim);
        let precision = parts.next()?.parse().ok()?;
        let scale = match parts.next() {
            Some(scale) => scale.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        DecimalType::new(precision, scale)
    }

    /// The value of `text` (an optional sign, digits, an optional point and digits) in units
    /// of 10^-scale, or why it is not one of this type.
    pub fn parse(self, text: &str) -> Result<i128, String> {
        let not_a_number = || "not a decimal number".to_owned();
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return Err(not_a_number());
        }
        let whole = whole.trim_start_matches('0');
        let before = usize::from(self.precision - self.scale);
        if whole.len() > before {
            return Err(format!("more than {before} digits before the point"));
        }
        let scale = usize::from(self.scale);
        let (kept, dropped) = fraction.split_at(fraction.len().min(scale));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(format!("more than {scale} digits after the point"));
        }
        // At most `precision` ≤ 38 digits in all: the value fits an i128 (10^38 < 2^127).
        let digits = whole.bytes().chain(kept.bytes());
        let padding = std::iter::repeat_n(b'0', scale - kept.len());
        let magnitude = digits
            .chain(padding)
            .fold(0i128, |n, digit| n * 10 + i128::from(digit - b'0'));
        Ok(if negative { -magnitude } else { magnitude })
    }
}

impl fmt::Display for DecimalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "decimal({},{})", self.precision, self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(precision: u8, scale: u8) -> DecimalType {
        DecimalType::new(precision, scale).unwrap()
    }

    #[test]
    fn names_and_ranges() {
        assert_eq!(DecimalType::from_name("decimal(10,2)"), Some(ty(10, 2)));
        assert_eq!(DecimalType::from_name("decimal( 38 , 0 )"), Some(ty(38, 0)));
        assert_eq!(DecimalType::from_name("decimal(5)"), Some(ty(5, 0)));
        for bad in [
            "decimal(39,2)",
            "decimal(0,0)",
            "decimal(4,5)",
            "decimal(10,-1)",
            "decimal(10,2,1)",
            "decimal()",
            "decimal(10,2",
            "numeric(10,2)",
        ] {
            assert_eq!(DecimalType::from_name(bad), None, "{bad}");
        }
        assert_eq!(ty(10, 2).to_string(), "decimal(10,2)");
    }

    #[test]
    fn text_is_read_exactly() {
        let money = ty(10, 2);
        for (text, value) in [
            ("12.30", 1230),
            ("12.3", 1230),
            ("-0.07", -7),
            ("+5", 500),
            (".5", 50),
            ("5.", 500),
            ("007.10", 710),
            ("12.3400", 1234),
            ("-0", 0),
            ("99999999.99", 9_999_999_999),
        ] {
            assert_eq!(money.parse(text), Ok(value), "{text}");
        }
        // 0.1 + 0.2 through a float would be 0.30000000000000004.
        assert_eq!(ty(20, 17).parse("0.3"), Ok(30_000_000_000_000_000));
        let widest = "9".repeat(38);
        assert_eq!(
            ty(38, 0).parse(&widest),
            Ok(widest.parse::<i128>().unwrap())
        );
        assert_eq!(
            ty(38, 38).parse(&format!("-0.{widest}")),
            Ok(-widest.parse::<i128>().unwrap())
        );
    }

    #[test]
    fn what_does_not_fit_is_refused() {
        let money = ty(10, 2);
        assert_eq!(
            money.parse("123456789.5").unwrap_err(),
            "more than 8 digits before the point"
        );
        assert_eq!(
            money.parse("1.005").unwrap_err(),
            "more than 2 digits after the point"
        );
        for text in [
            "", "-", ".", "1e3", "1,5", "1.2.3", "0x10", "--1", " 1", "NaN",
        ] {
            assert_eq!(
                money.parse(text).unwrap_err(),
                "not a decimal number",
                "{text:?}"
            );
        }
        assert!(ty(38, 0).parse(&"9".repeat(39)).is_err());
    }
}
