//! What a plugin says about itself (the `about` interface), from one table of its settings.
//!
//! A plugin declares every setting it takes once, as a `const` table of [`Setting`]s. The same
//! table is what [`crate::Settings::load`] checks the step's names against and what
//! `describe` returns, so `ferry validate` refuses exactly what the plugin would refuse and
//! `ferry plugins show` documents exactly what it reads:
//!
//! ```
//! use ferry_guest::about::Setting;
//! use ferry_guest::types::SettingType;
//!
//! const SETTINGS: &[Setting] = &[
//!     Setting::with_default("batch_size", SettingType::Integer, "8192", "rows per batch"),
//!     Setting::optional("input_schema", SettingType::Table, "column = \"type\" for declared columns"),
//! ];
//!
//! let about = ferry_guest::describe!(Parser, "CSV into typed batches", SETTINGS);
//! assert_eq!(about.settings[0].default.as_deref(), Some("8192"));
//! ```
//!
//! A default is written as the host passes the setting (`,` for a delimiter, `8192`), so that
//! a plugin's tests can give it back and see nothing change (`testing::check_settings`);
//! [`Setting::info`] quotes string defaults for TOML. A default that depends on another
//! setting (S3's endpoint on its region) has none here; its `doc` says what it is.

use crate::types::{Description, PluginKind, SettingInfo, SettingType};

/// One setting a plugin takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    name: &'static str,
    ty: SettingType,
    need: Need,
    doc: &'static str,
}

/// Whether a setting must be given, and what holds when it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Required,
    /// Optional with no fixed default (none, or one that depends on other settings).
    Optional,
    /// Optional, this when not given.
    Default(&'static str),
}

impl Setting {
    /// A setting the step must give.
    pub const fn required(name: &'static str, ty: SettingType, doc: &'static str) -> Setting {
        Setting {
            name,
            ty,
            need: Need::Required,
            doc,
        }
    }

    /// A setting that may be left out, with no fixed default (the `doc` says what happens).
    pub const fn optional(name: &'static str, ty: SettingType, doc: &'static str) -> Setting {
        Setting {
            name,
            ty,
            need: Need::Optional,
            doc,
        }
    }

    /// A setting that is `default` when left out, written as the host would pass it. Tables
    /// and arrays reach a plugin as JSON, not as the TOML a user writes, so they take no
    /// default here (the compiler refuses one).
    pub const fn with_default(
        name: &'static str,
        ty: SettingType,
        default: &'static str,
        doc: &'static str,
    ) -> Setting {
        assert!(
            !matches!(ty, SettingType::Table | SettingType::Array),
            "a table or array setting has no default"
        );
        Setting {
            name,
            ty,
            need: Need::Default(default),
            doc,
        }
    }

    /// `retries`, the attempts per request every plugin that talks to a service takes (read
    /// by [`crate::Settings::retry`]), `default` when not given.
    pub const fn retries(default: &'static str) -> Setting {
        Setting::with_default(
            "retries",
            SettingType::Integer,
            default,
            "attempts per request, with jittered backoff between them",
        )
    }

    pub const fn name(&self) -> &'static str {
        self.name
    }

    pub const fn ty(&self) -> SettingType {
        self.ty
    }

    pub const fn is_required(&self) -> bool {
        matches!(self.need, Need::Required)
    }

    /// The default as the host would pass it, when there is a fixed one.
    pub const fn default(&self) -> Option<&'static str> {
        match self.need {
            Need::Default(default) => Some(default),
            Need::Required | Need::Optional => None,
        }
    }

    pub const fn doc(&self) -> &'static str {
        self.doc
    }

    /// The `setting-info` record, its default as a user writes it in TOML.
    pub fn info(&self) -> SettingInfo {
        SettingInfo {
            name: self.name.to_owned(),
            type_: self.ty,
            required: self.is_required(),
            default: self.default().map(|d| toml(self.ty, d)),
            doc: self.doc.to_owned(),
        }
    }
}

/// `value` (a setting's text as the host passes it) as TOML: strings quoted, the rest as is.
fn toml(ty: SettingType, value: &str) -> String {
    match ty {
        SettingType::String | SettingType::Character => {
            let mut quoted = String::with_capacity(value.len() + 2);
            quoted.push('"');
            for c in value.chars() {
                match c {
                    '"' => quoted.push_str("\\\""),
                    '\\' => quoted.push_str("\\\\"),
                    '\t' => quoted.push_str("\\t"),
                    '\n' => quoted.push_str("\\n"),
                    c => quoted.push(c),
                }
            }
            quoted.push('"');
            quoted
        }
        SettingType::Boolean
        | SettingType::Integer
        | SettingType::Number
        | SettingType::Table
        | SettingType::Array => value.to_owned(),
    }
}

/// The `description` record of a plugin; [`crate::describe!`] fills in the name and version
/// from the plugin's own `Cargo.toml`.
pub fn description(
    name: &str,
    version: &str,
    kind: PluginKind,
    summary: &str,
    settings: &[Setting],
) -> Description {
    Description {
        name: name.to_owned(),
        kind,
        version: version.to_owned(),
        summary: summary.to_owned(),
        settings: settings.iter().map(Setting::info).collect(),
    }
}

/// What `describe` returns: `describe!(Parser, "one line", SETTINGS)`, the plugin's name and
/// version taken from the crate that calls it (`CARGO_PKG_NAME`, `CARGO_PKG_VERSION`).
#[macro_export]
macro_rules! describe {
    ($kind:ident, $summary:expr, $settings:expr $(,)?) => {
        $crate::about::description(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            $crate::types::PluginKind::$kind,
            $summary,
            $settings,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: &[Setting] = &[
        Setting::required("bucket", SettingType::String, "the bucket to read"),
        Setting::with_default("delimiter", SettingType::Character, "\t", "between fields"),
        Setting::with_default("region", SettingType::String, "us-east-1", "the region"),
        Setting::with_default("header", SettingType::Boolean, "true", "a header line"),
        Setting::optional("input_schema", SettingType::Table, "declared types"),
        Setting::retries("5"),
    ];

    #[test]
    fn describes_every_setting_with_toml_defaults() {
        let d = description("parser-x", "1.2.3", PluginKind::Parser, "does x", SETTINGS);
        assert_eq!(
            (
                d.name.as_str(),
                d.version.as_str(),
                d.kind,
                d.summary.as_str()
            ),
            ("parser-x", "1.2.3", PluginKind::Parser, "does x")
        );
        let rows: Vec<(&str, SettingType, bool, Option<&str>)> = d
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.type_, s.required, s.default.as_deref()))
            .collect();
        assert_eq!(
            rows,
            [
                ("bucket", SettingType::String, true, None),
                ("delimiter", SettingType::Character, false, Some("\"\\t\"")),
                ("region", SettingType::String, false, Some("\"us-east-1\"")),
                ("header", SettingType::Boolean, false, Some("true")),
                ("input_schema", SettingType::Table, false, None),
                ("retries", SettingType::Integer, false, Some("5")),
            ]
        );
        assert_eq!(d.settings[0].doc, "the bucket to read");
    }

    #[test]
    fn the_macro_names_the_calling_crate() {
        let d = crate::describe!(Source, "lists things", &[]);
        assert_eq!(d.name, "ferry-guest");
        assert_eq!(d.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(d.kind, PluginKind::Source);
        assert!(d.settings.is_empty());
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(toml(SettingType::Character, "\""), r#""\"""#);
        assert_eq!(toml(SettingType::String, r"C:\data"), r#""C:\\data""#);
    }
}
