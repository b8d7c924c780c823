//! The plugin's settings, checked and defaulted once per call: those every bucket source
//! takes ([`ferry_guest::remote::SETTINGS`]), with the GCS JSON API as the default endpoint.

use ferry_guest::Settings;
use ferry_guest::remote::{self, BucketSettings};
use ferry_guest::types::Error;

pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";

pub type Config = BucketSettings;

pub fn load() -> Result<Config, Error> {
    from_settings(&Settings::load(remote::SETTINGS)?)
}

pub fn from_settings(s: &Settings) -> Result<Config, Error> {
    BucketSettings::from_settings(s, |_| DEFAULT_ENDPOINT.to_owned())
}

#[cfg(test)]
pub(crate) fn for_tests(pairs: &[(&str, &str)]) -> Result<Config, Error> {
    from_settings(&Settings::from_pairs(remote::SETTINGS, pairs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

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
