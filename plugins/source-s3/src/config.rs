//! The plugin's settings, checked and defaulted once per call.

use ferry_guest::Settings;
use ferry_guest::about::Setting;
use ferry_guest::http::{Endpoint, Retry};
use ferry_guest::remote::{self, BucketSettings};
use ferry_guest::types::{Error, SettingType};

/// Every setting the plugin takes; anything else is refused as a likely typo.
pub const SETTINGS: &[Setting] = &[
    remote::BUCKET,
    Setting::with_default(
        "region",
        SettingType::String,
        "us-east-1",
        "the bucket's AWS region",
    ),
    Setting::optional(
        "endpoint",
        SettingType::String,
        "the S3 API, any S3-compatible store's (default https://s3.<region>.amazonaws.com)",
    ),
    Setting::optional(
        "path_style",
        SettingType::Boolean,
        "/bucket/key URLs rather than the bucket in the host name \
         (default true with a custom endpoint, else false)",
    ),
    remote::PAGE_SIZE,
    remote::RETRIES,
];

#[derive(Debug, Clone)]
pub struct Config {
    pub bucket: String,
    pub endpoint: Endpoint,
    /// `/bucket/key` on the endpoint, rather than the bucket in the host name.
    pub path_style: bool,
    pub page_size: usize,
    pub retry: Retry,
}

impl Config {
    pub fn load() -> Result<Config, Error> {
        Config::from_settings(&Settings::load(SETTINGS)?)
    }

    pub fn from_settings(s: &Settings) -> Result<Config, Error> {
        let region = s.string("region").unwrap_or("us-east-1");
        // A custom endpoint (MinIO, moto, s3s-fs) seldom has a host per bucket.
        let path_style = s
            .bool("path_style")?
            .unwrap_or(s.string("endpoint").is_some());
        let BucketSettings {
            bucket,
            endpoint,
            page_size,
            retry,
        } = BucketSettings::from_settings(s, |bucket| {
            if path_style {
                format!("https://s3.{region}.amazonaws.com")
            } else {
                format!("https://{bucket}.s3.{region}.amazonaws.com")
            }
        })?;
        Ok(Config {
            bucket,
            endpoint,
            path_style,
            page_size,
            retry,
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
        ferry_guest::testing::check_settings(
            SETTINGS,
            &[("bucket", "logs")],
            Config::from_settings,
        );
    }

    #[test]
    fn aws_is_virtual_hosted_and_a_custom_endpoint_path_style() {
        let c = for_tests(&[("bucket", "logs"), ("region", "eu-west-1")]).unwrap();
        assert_eq!(c.endpoint.url(), "https://logs.s3.eu-west-1.amazonaws.com");
        assert!(!c.path_style);
        let c = for_tests(&[("bucket", "logs"), ("path_style", "true")]).unwrap();
        assert_eq!(c.endpoint.url(), "https://s3.us-east-1.amazonaws.com");
        let c = for_tests(&[("bucket", "logs"), ("endpoint", "http://127.0.0.1:9000")]).unwrap();
        assert!(c.path_style);
        assert_eq!((c.page_size, c.retry.attempts), (1000, 5));
        let c = for_tests(&[
            ("bucket", "logs"),
            ("endpoint", "http://minio.test"),
            ("path_style", "false"),
        ])
        .unwrap();
        assert!(!c.path_style);
    }

    #[test]
    fn bad_settings_are_named() {
        let e = for_tests(&[("bucket", "b"), ("endpoint", "minio:9000")]).unwrap_err();
        assert_eq!(e.code, "invalid_setting");
        assert!(e.message.starts_with("setting `endpoint`"), "{}", e.message);
        let e = for_tests(&[("bucket", "b"), ("regoin", "x")]).unwrap_err();
        assert!(e.message.contains("did you mean `region`"), "{}", e.message);
        assert!(for_tests(&[("region", "x")]).is_err());
    }
}
