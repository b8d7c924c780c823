//! A plugin's settings from the workflow step, read through the host, typed, with unknown
//! names refused (a typo in a setting should not silently change nothing).

use crate::types::Error;

/// Settings of the current plugin instance.
pub struct Settings;

impl Settings {
    /// Fails if the step gave a setting not in `known`, suggesting the closest known one.
    pub fn check_known(known: &[&str]) -> Result<Settings, Error> {
        let unknown: Vec<String> = crate::host::setting_names()
            .into_iter()
            .filter(|n| !known.contains(&n.as_str()))
            .collect();
        if let Some(name) = unknown.first() {
            let hint = known
                .iter()
                .min_by_key(|k| edit_distance(name, k))
                .filter(|k| edit_distance(name, k) <= 2)
                .map(|k| format!(", did you mean `{k}`?"))
                .unwrap_or_else(|| format!("; known settings: {}", known.join(", ")));
            return Err(crate::error("invalid_setting", format!("unknown setting `{name}`{hint}")));
        }
        Ok(Settings)
    }

    pub fn string(&self, name: &str) -> Option<String> {
        crate::host::setting(name)
    }

    pub fn bool(&self, name: &str, default: bool) -> Result<bool, Error> {
        match self.string(name) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(invalid(name, &v, "true or false")),
            },
        }
    }

    pub fn usize(&self, name: &str, default: usize) -> Result<usize, Error> {
        match self.string(name) {
            None => Ok(default),
            Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or_else(|| invalid(name, &v, "a positive integer")),
        }
    }

    /// A table of column → type name (arrives as JSON), in the order written.
    pub fn schema(&self, name: &str) -> Result<Vec<(String, crate::Kind)>, Error> {
        let Some(json) = self.string(name) else {
            return Ok(Vec::new());
        };
        let bad = || invalid(name, &json, "a table of column = \"type\"");
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&json).map_err(|_| bad())?;
        map.into_iter()
            .map(|(column, ty)| {
                let ty = ty.as_str().ok_or_else(bad)?;
                let kind = crate::Kind::from_name(ty).ok_or_else(|| {
                    crate::error(
                        "invalid_setting",
                        format!("{name}: column `{column}` has unknown type `{ty}` (utf8, int64, float64, boolean)"),
                    )
                })?;
                Ok((column, kind))
            })
            .collect()
    }

    /// A single ASCII character; `\t` may be written as the two characters backslash, t.
    pub fn byte(&self, name: &str, default: Option<u8>) -> Result<Option<u8>, Error> {
        match self.string(name) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "\\t" | "\t" | "tab" => Ok(Some(b'\t')),
                s if s.len() == 1 && s.is_ascii() => Ok(Some(s.as_bytes()[0])),
                _ => Err(invalid(name, &v, "a single ASCII character")),
            },
        }
    }
}

fn invalid(name: &str, value: &str, expected: &str) -> Error {
    crate::error("invalid_setting", format!("setting `{name}` = `{value}` must be {expected}"))
}

/// Levenshtein distance, for "did you mean" on short names.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(super::edit_distance("delimter", "delimiter"), 1);
        assert_eq!(super::edit_distance("header", "header"), 0);
    }
}
