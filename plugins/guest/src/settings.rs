//! A plugin's settings from its workflow step, typed, with unknown names refused: a misspelt
//! setting that silently changed nothing would be found only in the data.
//!
//! The host passes every setting as text: strings as written, numbers and booleans as their
//! TOML text (`8192`, `true`), tables as JSON (`{"score":"float64"}`). Each getter here turns
//! that text into a value (`None` when the setting is not given, so the caller picks the
//! default) or into an `invalid_setting` error naming the setting and the value.
//!
//! The names a plugin takes, their types and defaults are its [`Setting`] table (see
//! [`crate::about`]), the one its `describe` returns too. A getter reading a setting the table
//! does not declare, or as another type than declared, is a bug in the plugin: it panics in
//! debug builds (every native test), so the table and the code cannot drift apart.

use std::collections::BTreeMap;

use crate::about::Setting;
use crate::http::{Endpoint, Retry};
use crate::types::{Error, SettingType};
use crate::typing::Kind;

/// The code of every error in this module.
pub const INVALID_SETTING: &str = "invalid_setting";

/// Settings of the current plugin instance, read from the host once.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    known: &'static [Setting],
    values: BTreeMap<String, String>,
}

impl Settings {
    /// Reads the step's settings through `host.setting`, refusing names not in `known`.
    pub fn load(known: &'static [Setting]) -> Result<Settings, Error> {
        let values = crate::host::setting_names().into_iter().filter_map(|name| {
            let value = crate::host::setting(&name)?;
            Some((name, value))
        });
        Settings::new(known, values)
    }

    /// Settings from `values`, refusing names not in `known`.
    pub fn new(
        known: &'static [Setting],
        values: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, Error> {
        let values: BTreeMap<String, String> = values.into_iter().collect();
        let names: Vec<&str> = known.iter().map(Setting::name).collect();
        let unknown: Vec<String> = values
            .keys()
            .filter(|name| !names.contains(&name.as_str()))
            .map(|name| match suggest(name, &names) {
                Some(close) => format!("`{name}` (did you mean `{close}`?)"),
                None => format!("`{name}`"),
            })
            .collect();
        if unknown.is_empty() {
            return Ok(Settings { known, values });
        }
        let plural = if unknown.len() == 1 { "" } else { "s" };
        let takes = if known.is_empty() {
            "this plugin takes no settings".to_owned()
        } else {
            format!("this plugin takes: {}", names.join(", "))
        };
        Err(crate::error(
            INVALID_SETTING,
            format!("unknown setting{plural} {}; {takes}", unknown.join(", ")),
        ))
    }

    /// Settings written out as `(name, value)` pairs, refusing names not in `known`: what a
    /// plugin's tests give its `from_settings`.
    pub fn from_pairs(
        known: &'static [Setting],
        pairs: &[(&str, &str)],
    ) -> Result<Settings, Error> {
        let values = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Settings::new(known, values)
    }

    /// The raw text of a setting, whatever its type (a table or an array as JSON).
    pub fn string(&self, name: &str) -> Option<&str> {
        self.declared(name, None);
        self.values.get(name).map(String::as_str)
    }

    /// The table this plugin's settings are checked against.
    pub fn known(&self) -> &'static [Setting] {
        self.known
    }

    /// The raw text of a setting declared as `ty`.
    fn typed(&self, name: &str, ty: SettingType) -> Option<&str> {
        self.declared(name, Some(ty));
        self.values.get(name).map(String::as_str)
    }

    /// Checks, in debug builds, that the plugin reads only what its table declares (and as
    /// the declared type, when `ty` is given).
    fn declared(&self, name: &str, ty: Option<SettingType>) {
        if cfg!(debug_assertions) {
            let setting = self.known.iter().find(|s| s.name() == name);
            let Some(setting) = setting else {
                panic!("setting `{name}` is read but not in the plugin's settings table");
            };
            if let Some(ty) = ty {
                assert_eq!(
                    setting.ty(),
                    ty,
                    "setting `{name}` is read as another type than its table declares"
                );
            }
        }
    }

    /// A setting that must be given and not blank; the message says what it is for with its
    /// table's doc.
    pub fn required(&self, name: &str) -> Result<String, Error> {
        let doc = self
            .known
            .iter()
            .find(|s| s.name() == name)
            .map(Setting::doc);
        self.string(name)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                let message = match doc {
                    Some(doc) => format!("the `{name}` setting is required ({doc})"),
                    None => format!("the `{name}` setting is required"),
                };
                crate::error(INVALID_SETTING, message)
            })
    }

    /// `true` or `false`, in any case.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, Error> {
        self.parse(name, SettingType::Boolean, "true or false", |v| {
            match v.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            }
        })
    }

    /// A whole number, zero included.
    pub fn usize(&self, name: &str) -> Result<Option<usize>, Error> {
        self.parse(name, SettingType::Integer, "a whole number", |v| {
            v.parse().ok()
        })
    }

    /// A whole number of at least 1, such as a batch or page size.
    pub fn positive(&self, name: &str) -> Result<Option<usize>, Error> {
        let expected = "a whole number of at least 1";
        self.parse(name, SettingType::Integer, expected, |v| {
            v.parse().ok().filter(|n| *n > 0)
        })
    }

    /// A service's base URL (`endpoint`, `s3_endpoint`…), `default` when not given.
    pub fn endpoint(&self, name: &str, default: &str) -> Result<Endpoint, Error> {
        let url = self.typed(name, SettingType::String).unwrap_or(default);
        Endpoint::parse(url)
            .map_err(|m| crate::error(INVALID_SETTING, format!("setting `{name}`: {m}")))
    }

    /// How hard to try each request: `retries` attempts (`default` when not given), with the
    /// standard backoff. Every plugin that talks to a service takes this one setting.
    pub fn retry(&self, default: u32) -> Result<Retry, Error> {
        let attempts = match self.positive("retries")? {
            Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
            None => default,
        };
        Ok(Retry {
            attempts,
            ..Retry::default()
        })
    }

    /// A single ASCII character such as a delimiter. A tab may be written as itself or as the
    /// two characters `\t` (what a TOML literal string `'\t'` holds).
    pub fn ascii_char(&self, name: &str) -> Result<Option<u8>, Error> {
        let expected = "a single ASCII character (a tab may be written `\\t`)";
        self.parse(name, SettingType::Character, expected, |v| match v {
            "\\t" => Some(b'\t'),
            _ if v.len() == 1 && v.is_ascii() => Some(v.as_bytes()[0]),
            _ => None,
        })
    }

    /// A table of column name → declared type name, given in the workflow as a TOML table
    /// (`input_schema = { score = "float64" }`), which reaches the plugin as JSON.
    pub fn schema(&self, name: &str) -> Result<Vec<(String, Kind)>, Error> {
        let Some(json) = self.typed(name, SettingType::Table) else {
            return Ok(Vec::new());
        };
        let table = match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Object(table)) => table,
            _ => return Err(invalid(name, json, "a table of column = \"type\"")),
        };
        table
            .into_iter()
            .map(|(column, ty)| {
                let kind = ty.as_str().and_then(Kind::from_name).ok_or_else(|| {
                    crate::error(
                        INVALID_SETTING,
                        format!(
                            "setting `{name}`: column `{column}` has type {ty}, expected one of {}",
                            Kind::DECLARABLE
                        ),
                    )
                })?;
                Ok((column, kind))
            })
            .collect()
    }

    /// The setting parsed by `parse`: `None` if it is not given, an error if it does not parse.
    fn parse<T>(
        &self,
        name: &str,
        ty: SettingType,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, Error> {
        self.typed(name, ty)
            .map(|text| parse(text).ok_or_else(|| invalid(name, text, expected)))
            .transpose()
    }
}

fn invalid(name: &str, value: &str, expected: &str) -> Error {
    crate::error(
        INVALID_SETTING,
        format!("setting `{name}` = `{value}`: expected {expected}"),
    )
}

/// The known name closest to `name`, if it is a plausible typo of it.
fn suggest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let (distance, close) = known.iter().map(|k| (edit_distance(name, k), *k)).min()?;
    (distance <= 2 && distance < name.chars().count()).then_some(close)
}

/// Levenshtein distance over chars; setting names are short, so one row at a time is plenty.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur.push(substitute.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[Setting] = &[
        Setting::with_default("delimiter", SettingType::Character, ",", "between fields"),
        Setting::with_default("header", SettingType::Boolean, "true", "a header line"),
        Setting::with_default("batch_size", SettingType::Integer, "8192", "rows per batch"),
        Setting::optional("input_schema", SettingType::Table, "declared types"),
    ];

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, Error> {
        Settings::from_pairs(KNOWN, pairs)
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("delimter", "delimiter"), 1);
        assert_eq!(edit_distance("header", "header"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("headr", "hader"), 2);
    }

    #[test]
    fn unknown_names_are_refused_with_a_suggestion() {
        let err = settings(&[("delimter", ";"), ("header", "true")]).unwrap_err();
        assert_eq!(err.code, "invalid_setting");
        assert_eq!(
            err.message,
            "unknown setting `delimter` (did you mean `delimiter`?); \
             this plugin takes: delimiter, header, batch_size, input_schema"
        );
        let err = settings(&[("colour", "red"), ("batchsize", "9")]).unwrap_err();
        assert!(
            err.message.starts_with(
                "unknown settings `batchsize` (did you mean `batch_size`?), `colour`;"
            ),
            "{}",
            err.message
        );
        let err = Settings::new(&[], [("x".into(), "1".into())]).unwrap_err();
        assert_eq!(
            err.message,
            "unknown setting `x`; this plugin takes no settings"
        );
    }

    #[test]
    fn unset_settings_are_none() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.bool("header"), Ok(None));
        assert_eq!(s.positive("batch_size"), Ok(None));
        assert_eq!(s.ascii_char("delimiter"), Ok(None));
        assert_eq!(s.string("delimiter"), None);
        assert_eq!(s.schema("input_schema"), Ok(vec![]));
    }

    #[test]
    fn typed_getters_parse_text() {
        let s = settings(&[
            ("header", "FALSE"),
            ("batch_size", "100"),
            ("delimiter", "\\t"),
        ])
        .unwrap();
        assert_eq!(s.bool("header"), Ok(Some(false)));
        assert_eq!(s.positive("batch_size"), Ok(Some(100)));
        assert_eq!(s.usize("batch_size"), Ok(Some(100)));
        assert_eq!(s.ascii_char("delimiter"), Ok(Some(b'\t')));
        let tab = settings(&[("delimiter", "\t")]).unwrap();
        assert_eq!(tab.ascii_char("delimiter"), Ok(Some(b'\t')));
    }

    #[test]
    fn bad_values_name_the_setting_and_the_value() {
        let s = settings(&[("header", "yes"), ("batch_size", "0"), ("delimiter", ";;")]).unwrap();
        let err = s.bool("header").unwrap_err();
        assert_eq!(err.code, "invalid_setting");
        assert_eq!(
            err.message,
            "setting `header` = `yes`: expected true or false"
        );
        assert_eq!(
            s.positive("batch_size").unwrap_err().message,
            "setting `batch_size` = `0`: expected a whole number of at least 1"
        );
        assert_eq!(s.usize("batch_size"), Ok(Some(0)));
        assert!(
            s.ascii_char("delimiter")
                .unwrap_err()
                .message
                .starts_with("setting `delimiter` = `;;`")
        );
        let s = settings(&[("delimiter", "é")]).unwrap();
        assert!(s.ascii_char("delimiter").is_err());
    }

    #[test]
    fn endpoints_and_retries() {
        const KNOWN: &[Setting] = &[
            Setting::optional("endpoint", SettingType::String, "the API"),
            Setting::retries("5"),
        ];
        let known = KNOWN;
        let s = Settings::new(known, [("retries".into(), "3".into())]).unwrap();
        assert_eq!(s.retry(5).unwrap().attempts, 3);
        assert_eq!(
            s.endpoint("endpoint", "https://storage.googleapis.com")
                .unwrap()
                .url(),
            "https://storage.googleapis.com"
        );
        let s = Settings::new(
            known,
            [
                ("endpoint".into(), "localhost:9000".into()),
                ("retries".into(), "0".into()),
            ],
        )
        .unwrap();
        let e = s.endpoint("endpoint", "https://x").unwrap_err();
        assert_eq!(e.code, INVALID_SETTING);
        assert_eq!(
            e.message,
            "setting `endpoint`: endpoint `localhost:9000` must start with http:// or https://"
        );
        assert!(s.retry(5).is_err());
        let unset = Settings::new(known, []).unwrap();
        assert_eq!(unset.retry(2).unwrap().attempts, 2);
    }

    #[test]
    #[should_panic(expected = "setting `colour` is read but not in the plugin's settings table")]
    fn reading_an_undeclared_setting_is_a_bug() {
        let _ = settings(&[]).unwrap().string("colour");
    }

    #[test]
    #[should_panic(expected = "setting `header` is read as another type than its table declares")]
    fn reading_a_setting_as_another_type_is_a_bug() {
        let _ = settings(&[]).unwrap().positive("header");
    }

    #[test]
    fn declared_schemas_take_every_declarable_type() {
        let s = settings(&[(
            "input_schema",
            r#"{"d":"date","n":"int32","f":"float32","price":"decimal(10,2)","t":"timestamp"}"#,
        )])
        .unwrap();
        let mut schema = s.schema("input_schema").unwrap();
        schema.sort_by(|a, b| a.0.cmp(&b.0));
        let kinds: Vec<String> = schema.iter().map(|(c, k)| format!("{c}:{k}")).collect();
        assert_eq!(
            kinds,
            [
                "d:date32",
                "f:float32",
                "n:int32",
                "price:decimal(10,2)",
                "t:timestamp"
            ]
        );
    }

    #[test]
    fn schemas_arrive_as_json() {
        let s = settings(&[("input_schema", r#"{"score":"float64","id":"string"}"#)]).unwrap();
        let mut schema = s.schema("input_schema").unwrap();
        schema.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            schema,
            [
                ("id".to_owned(), Kind::Utf8),
                ("score".to_owned(), Kind::Float64)
            ]
        );

        let s = settings(&[("input_schema", r#"{"score":"float"}"#)]).unwrap();
        assert_eq!(
            s.schema("input_schema").unwrap_err().message,
            "setting `input_schema`: column `score` has type \"float\", \
             expected one of utf8, string, boolean, int32, int64, float32, float64, date, \
             date32, timestamp, decimal(p,s) (p 1 to 38, s 0 to p)"
        );
        let s = settings(&[("input_schema", "score")]).unwrap();
        assert_eq!(
            s.schema("input_schema").unwrap_err().message,
            "setting `input_schema` = `score`: expected a table of column = \"type\""
        );
    }
}
