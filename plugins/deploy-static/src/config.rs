//! The infra's settings: the configured nodes, and how hard to try each.

use ferry_guest::about::Setting;
use ferry_guest::http::{Endpoint, Retry};
use ferry_guest::settings::INVALID_SETTING;
use ferry_guest::types::{Error, SettingType};
use ferry_guest::{Settings, error};

/// Every setting the plugin takes; anything else is refused as a likely typo.
pub const SETTINGS: &[Setting] = &[
    Setting::required(
        "nodes",
        SettingType::Array,
        "the API nodes' base URLs, [\"http://10.0.0.5:8080\", …]",
    ),
    // A node that is down is reported, not waited on.
    Setting::retries("2"),
];

#[derive(Debug, Clone)]
pub struct Config {
    /// The infra's `nodes`, the truth about where the service is served.
    pub nodes: Vec<Endpoint>,
    /// Default 2 attempts: a node that is down is reported, not waited on.
    pub retry: Retry,
}

impl Config {
    pub fn load() -> Result<Config, Error> {
        Config::from_settings(&Settings::load(SETTINGS)?)
    }

    pub fn from_settings(s: &Settings) -> Result<Config, Error> {
        let text = s
            .string("nodes")
            .ok_or_else(|| error(INVALID_SETTING, "the `nodes` setting is required"))?;
        let urls: Vec<String> = serde_json::from_str(text).map_err(|_| {
            error(
                INVALID_SETTING,
                "`nodes` must be a list of URLs, for example [\"http://10.0.0.5:8080\"]",
            )
        })?;
        if urls.is_empty() {
            return Err(error(INVALID_SETTING, "`nodes` lists no node"));
        }
        let nodes = urls
            .iter()
            .map(|u| Endpoint::parse(u).map_err(|m| error(INVALID_SETTING, m)))
            .collect::<Result<_, _>>()?;
        Ok(Config {
            nodes,
            retry: s.retry(2)?,
        })
    }
}

#[cfg(test)]
pub(crate) fn for_tests(pairs: &[(&str, &str)]) -> Result<Config, Error> {
    Config::from_settings(&Settings::from_pairs(SETTINGS, pairs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_table_is_what_the_config_reads() {
        let nodes = &[("nodes", r#"["http://a:1"]"#)];
        ferry_guest::testing::check_settings(SETTINGS, nodes, Config::from_settings);
    }

    #[test]
    fn nodes_are_a_list_of_urls() {
        let c = for_tests(&[("nodes", r#"["http://a:1", "https://b/"]"#)]).unwrap();
        let urls: Vec<String> = c.nodes.iter().map(Endpoint::url).collect();
        assert_eq!(urls, ["http://a:1", "https://b"]);
        assert_eq!(c.retry.attempts, 2);
        for (nodes, message) in [
            ("http://a:1", "`nodes` must be a list of URLs"),
            ("[]", "`nodes` lists no node"),
            (
                r#"["a:1"]"#,
                "endpoint `a:1` must start with http:// or https://",
            ),
        ] {
            let e = for_tests(&[("nodes", nodes)]).unwrap_err();
            assert_eq!(e.code, "invalid_setting");
            assert!(e.message.starts_with(message), "{}", e.message);
        }
        assert_eq!(
            for_tests(&[]).unwrap_err().message,
            "the `nodes` setting is required"
        );
    }
}
