//! The plugin's settings, checked and defaulted once per call: those every bucket source
//! takes ([`ferry_guest::remote`]), with the GCS JSON API as the default endpoint.

use ferry_guest::Settings;
use ferry_guest::about::Setting;
use ferry_guest::remote::{self, BucketSettings};
use ferry_guest::types::Error;

pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";

/// Every setting the plugin takes; anything else is refused as a likely typo.
pub const SETTINGS: &[Setting] = &[
    remote::BUCKET,
    remote::endpoint(DEFAULT_ENDPOINT),
    remote::PAGE_SIZE,
    remote::RETRIES,
];

pub type Config = BucketSettings;

pub fn load() -> Result<Config, Error> {
    from_settings(&Settings::load(SETTINGS)?)
}

pub fn from_settings(s: &Settings) -> Result<Config, Error> {
    BucketSettings::from_settings(s, |_| DEFAULT_ENDPOINT.to_owned())
}

#[cfg(test)]
pub(crate) fn for_tests(pairs: &[(&str, &str)]) -> Result<Config, Error> {
    from_settings(&Settings::from_pairs(SETTINGS, pairs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_table_is_what_the_config_reads() {
        ferry_guest::testing::check_settings(SETTINGS, &[("bucket", "events")], from_settings);
    }

    #[test]
    fn defaults_and_a_custom_endpoint() {
        let c = for_tests(&[("bucket", "events")]).unwrap();
        assert_eq!(c.endpoint.url(), DEFAULT_ENDPOINT);
        assert_eq!((c.page_size, c.retry.attempts), (1000, 5));
        let c = for_tests(&[("bucket", "events"), ("endpoint", "http://127.0.0.1:4443/")]).unwrap();
        assert_eq!(c.endpoint.url(), "http://127.0.0.1:4443");
        let e = for_tests(&[("bucket", "events"), ("region", "eu")]).unwrap_err();
        assert_eq!(
            e.message,
            "unknown setting `region`; this plugin takes: bucket, endpoint, page_size, retries"
        );
    }
}
