//! The check that a plugin's settings table says what its code does: what `describe` reports
//! about required settings and defaults is only true if reading the settings agrees.

use std::collections::HashSet;
use std::fmt::Debug;

use crate::Settings;
use crate::about::Setting;
use crate::types::Error;

/// Checks `table` against `read`, the plugin's own reading of its settings, starting from
/// `minimal` (a value for each required setting and nothing else):
///
/// - the names are distinct and `minimal` gives exactly the required ones, and reads;
/// - leaving out any required setting fails with an `invalid_setting` naming it;
/// - giving any setting its declared default changes nothing (the configs' `Debug` agree).
///
/// Panics with what disagrees.
pub fn check_settings<T: Debug>(
    table: &'static [Setting],
    minimal: &[(&str, &str)],
    read: impl Fn(&Settings) -> Result<T, Error>,
) {
    let mut names = HashSet::new();
    for setting in table {
        assert!(
            names.insert(setting.name()),
            "`{}` is declared twice",
            setting.name()
        );
    }
    let required: HashSet<&str> = table
        .iter()
        .filter(|s| s.is_required())
        .map(Setting::name)
        .collect();
    let given: HashSet<&str> = minimal.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        given, required,
        "the minimal settings are the required ones"
    );

    let load = |pairs: &[(&str, &str)]| {
        let settings = Settings::from_pairs(table, pairs).unwrap_or_else(|e| panic!("{e:?}"));
        read(&settings)
    };
    let base = match load(minimal) {
        Ok(config) => format!("{config:?}"),
        Err(e) => panic!("the minimal settings fail: {e:?}"),
    };
    for name in &required {
        let without: Vec<(&str, &str)> =
            minimal.iter().copied().filter(|(n, _)| n != name).collect();
        match load(&without) {
            Ok(_) => panic!("`{name}` is declared required, yet leaving it out reads"),
            Err(e) => {
                assert_eq!(e.code, crate::settings::INVALID_SETTING, "without `{name}`");
                assert!(
                    e.message.contains(&format!("`{name}`")),
                    "leaving out `{name}` fails without naming it: {}",
                    e.message
                );
            }
        }
    }
    for setting in table {
        let Some(default) = setting.default() else {
            continue;
        };
        let mut pairs = minimal.to_vec();
        pairs.push((setting.name(), default));
        let config = load(&pairs).unwrap_or_else(|e| {
            panic!(
                "`{}` = its default `{default}` fails: {e:?}",
                setting.name()
            )
        });
        assert_eq!(
            format!("{config:?}"),
            base,
            "`{}` = its declared default `{default}` is not what leaving it out gives",
            setting.name()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::SettingType;

    #[derive(Debug)]
    #[allow(dead_code)] // Read through Debug only.
    struct Config {
        bucket: String,
        size: usize,
    }

    fn read(s: &Settings) -> Result<Config, Error> {
        Ok(Config {
            bucket: s.required("bucket")?,
            size: s.positive("size")?.unwrap_or(10),
        })
    }

    const TRUE: &[Setting] = &[
        Setting::required("bucket", SettingType::String, "the bucket"),
        Setting::with_default("size", SettingType::Integer, "10", "how many"),
    ];

    const WRONG_DEFAULT: &[Setting] = &[
        Setting::required("bucket", SettingType::String, "the bucket"),
        Setting::with_default("size", SettingType::Integer, "100", "how many"),
    ];

    const NOT_REQUIRED: &[Setting] = &[
        Setting::required("bucket", SettingType::String, "the bucket"),
        Setting::required("size", SettingType::Integer, "how many"),
    ];

    #[test]
    fn a_true_table_passes() {
        check_settings(TRUE, &[("bucket", "b")], read);
    }

    #[test]
    #[should_panic(expected = "`size` = its declared default `100` is not what leaving it out")]
    fn a_default_the_code_does_not_use_fails() {
        check_settings(WRONG_DEFAULT, &[("bucket", "b")], read);
    }

    #[test]
    #[should_panic(expected = "`size` is declared required, yet leaving it out reads")]
    fn a_required_setting_the_code_does_without_fails() {
        check_settings(NOT_REQUIRED, &[("bucket", "b"), ("size", "3")], read);
    }
}
