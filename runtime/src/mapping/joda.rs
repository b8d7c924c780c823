//! Joda time patterns (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`), as Polaris and Druid write them, in
//! chrono's strftime terms.

/// Translates a Joda pattern (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`) into chrono's strftime items.
pub fn joda_to_chrono(pattern: &str) -> std::result::Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let literal = |out: &mut String, c: char| {
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // '' is a quote; 'text' is text.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (None, _) => return Err(format!("pattern `{pattern}` has an unclosed quote")),
                    (Some('\''), Some('\'')) => {
                        out.push('\'');
                        i += 2;
                    }
                    (Some('\''), _) => {
                        i += 1;
                        break;
                    }
                    (Some(&c), _) => {
                        literal(&mut out, c);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            literal(&mut out, c);
            i += 1;
            continue;
        }
        let mut run = 1;
        while chars.get(i + run) == Some(&c) {
            run += 1;
        }
        let item = match (c, run) {
            ('y' | 'Y' | 'u', 2) => "%y",
            ('y' | 'Y' | 'u', _) => "%Y",
            ('M', 1) => "%-m",
            ('M', 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', 1) => "%-d",
            ('d', _) => "%d",
            ('D', _) => "%j",
            ('H' | 'k', 1) => "%-H",
            ('H' | 'k', _) => "%H",
            ('h' | 'K', 1) => "%-I",
            ('h' | 'K', _) => "%I",
            ('m', 1) => "%-M",
            ('m', _) => "%M",
            ('s', 1) => "%-S",
            ('s', _) => "%S",
            ('S', 1..=3) => "%3f",
            ('S', 4..=6) => "%6f",
            ('S', _) => "%9f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z', 1) => "%z",
            ('Z', _) => "%:z",
            ('z', _) => "%Z",
            _ => {
                return Err(format!(
                    "pattern `{pattern}`: `{c}` at {} is not a pattern letter ferry knows \
                     (y M d D H k h K m s S a E Z z; quote text as 'T')",
                    i + 1
                ));
            }
        };
        out.push_str(item);
        i += run;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joda_patterns_become_chrono_ones() {
        let cases = [
            ("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "%Y-%m-%dT%H:%M:%S.%3f%z"),
            ("dd/MM/yy h:mm a", "%d/%m/%y %-I:%M %p"),
            ("EEE, d MMM yyyy", "%a, %-d %b %Y"),
            ("'at' HH 'o''clock' 100%", "at %H o'clock 100%%"),
        ];
        for (joda, chrono) in cases {
            assert_eq!(joda_to_chrono(joda).unwrap(), chrono, "{joda}");
        }
        assert!(joda_to_chrono("yyyy-qq").unwrap_err().contains("`q` at 6"));
        assert!(
            joda_to_chrono("'open")
                .unwrap_err()
                .contains("unclosed quote")
        );
    }
}
