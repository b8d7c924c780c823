//! A step's plugin settings checked against what the plugin says it takes (`about.describe`),
//! without running it on any data: unknown names (with a suggestion), missing required ones,
//! and values of the wrong TOML type are problems at their place in the file.

use crate::host::{Description, SettingType};
use crate::workflow::did_you_mean;

/// What is wrong with `settings` for the plugin `description` describes, one line each.
pub fn problems(description: &Description, settings: &toml::Table) -> Vec<String> {
    let plugin = &description.name;
    let known = || description.settings.iter().map(|s| s.name.as_str());
    let mut problems = Vec::new();
    for (name, value) in settings {
        let Some(info) = description.settings.iter().find(|s| &s.name == name) else {
            let hint = match did_you_mean(name, known()) {
                Some(close) => format!(" (did you mean `{close}`?)"),
                None if description.settings.is_empty() => " (it takes no settings)".into(),
                None => format!(" (it takes: {})", known().collect::<Vec<_>>().join(", ")),
            };
            problems.push(format!("`{plugin}` has no setting `{name}`{hint}"));
            continue;
        };
        if !fits(info.type_, value) {
            problems.push(format!(
                "`{plugin}` setting `{name}` must be {}, not {} `{value}`",
                expected(info.type_),
                value.type_str()
            ));
        }
    }
    for info in &description.settings {
        if info.required && !settings.contains_key(&info.name) {
            problems.push(format!(
                "`{plugin}` needs the setting `{}` ({})",
                info.name, info.doc
            ));
        }
    }
    problems
}

fn fits(ty: SettingType, value: &toml::Value) -> bool {
    use toml::Value as V;
    match ty {
        SettingType::String => matches!(value, V::String(_)),
        SettingType::Boolean => matches!(value, V::Boolean(_)),
        SettingType::Integer => matches!(value, V::Integer(_)),
        SettingType::Number => matches!(value, V::Integer(_) | V::Float(_)),
        SettingType::Character => {
            matches!(value, V::String(s) if s.chars().count() == 1 || s == "\\t")
        }
        SettingType::Table => matches!(value, V::Table(_)),
        SettingType::Array => matches!(value, V::Array(_)),
    }
}

fn expected(ty: SettingType) -> &'static str {
    match ty {
        SettingType::String => "a string",
        SettingType::Boolean => "true or false",
        SettingType::Integer => "a whole number",
        SettingType::Number => "a number",
        SettingType::Character => "one character",
        SettingType::Table => "a table",
        SettingType::Array => "an array",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{DescribedKind, SettingInfo};

    fn csv() -> Description {
        let setting = |name: &str, type_, required| SettingInfo {
            name: name.into(),
            type_,
            required,
            default: None,
            doc: format!("the {name}"),
        };
        Description {
            name: "parser-csv".into(),
            kind: DescribedKind::Parser,
            version: "0.2.0".into(),
            summary: "CSV".into(),
            settings: vec![
                setting("delimiter", SettingType::Character, false),
                setting("batch_size", SettingType::Integer, false),
                setting("input_schema", SettingType::Table, false),
                setting("bucket", SettingType::String, true),
            ],
        }
    }

    #[test]
    fn names_types_and_required_settings_are_checked() {
        let settings: toml::Table =
            toml::from_str("delimter = ';'\nbatch_size = '10'\nbucket = 'b'\ndelimiter = '\\t'")
                .unwrap();
        let problems = problems(&csv(), &settings);
        assert_eq!(
            problems,
            [
                "`parser-csv` setting `batch_size` must be a whole number, not string `\"10\"`",
                "`parser-csv` has no setting `delimter` (did you mean `delimiter`?)",
            ]
        );
        let missing = super::problems(&csv(), &toml::Table::new());
        assert_eq!(
            missing,
            ["`parser-csv` needs the setting `bucket` (the bucket)"]
        );
    }
}
