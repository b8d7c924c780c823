//! The infra's settings, checked and defaulted once per call: where SageMaker and the model
//! bucket are, and what every endpoint of the infra runs on.

use ferry_guest::about::Setting;
use ferry_guest::http::{Endpoint, Retry};
use ferry_guest::settings::INVALID_SETTING;
use ferry_guest::types::{Error, SettingType};
use ferry_guest::{Settings, error};

/// Every setting the plugin takes; anything else is refused as a likely typo.
pub const SETTINGS: &[Setting] = &[
    Setting::with_default("region", SettingType::String, "us-east-1", "the AWS region"),
    Setting::optional(
        "endpoint",
        SettingType::String,
        "the SageMaker API, and where clients invoke endpoints when given (an emulator's URL; \
         default https://api.sagemaker.<region>.amazonaws.com, clients invoking \
         https://runtime.sagemaker.<region>.amazonaws.com)",
    ),
    Setting::optional(
        "s3_endpoint",
        SettingType::String,
        "the S3 API the model data goes to (default https://s3.<region>.amazonaws.com)",
    ),
    Setting::required(
        "bucket",
        SettingType::String,
        "the S3 bucket SageMaker reads model data from",
    ),
    Setting::with_default(
        "prefix",
        SettingType::String,
        "ferry",
        "the key prefix of model data in the bucket",
    ),
    Setting::required(
        "image",
        SettingType::String,
        "the inference container image URI",
    ),
    Setting::required(
        "role_arn",
        SettingType::String,
        "the endpoint's execution role ARN",
    ),
    Setting::with_default(
        "instance_type",
        SettingType::String,
        "ml.m5.large",
        "the instance type every variant runs on",
    ),
    Setting::with_default(
        "instance_count",
        SettingType::Integer,
        "1",
        "instances per variant",
    ),
    // Cloud calls are few and small; a short retry keeps a failing apply quick to report.
    Setting::retries("3"),
];

#[derive(Debug, Clone)]
pub struct Config {
    /// The SageMaker control plane.
    pub api: Endpoint,
    /// Where clients invoke endpoints: the SageMaker runtime of the region, or the custom
    /// `endpoint` (an emulator such as moto answers InvokeEndpoint on the API's own port).
    pub runtime: Endpoint,
    /// The S3 API the model data goes to (path-style).
    pub s3: Endpoint,
    /// The bucket SageMaker reads model data from.
    pub bucket: String,
    pub prefix: String,
    /// The inference container every model runs in.
    pub image: String,
    /// The role SageMaker assumes to pull the image and read the model data.
    pub role_arn: String,
    pub instance_type: String,
    pub instance_count: u32,
    pub retry: Retry,
}

impl Config {
    pub fn load() -> Result<Config, Error> {
        Config::from_settings(&Settings::load(SETTINGS)?)
    }

    pub fn from_settings(s: &Settings) -> Result<Config, Error> {
        let region = s.string("region").unwrap_or("us-east-1").to_owned();
        let retry = s.retry(3)?;
        let api = s.endpoint(
            "endpoint",
            &format!("https://api.sagemaker.{region}.amazonaws.com"),
        )?;
        let runtime = match s.string("endpoint") {
            Some(_) => api.clone(),
            None => s.endpoint(
                "endpoint",
                &format!("https://runtime.sagemaker.{region}.amazonaws.com"),
            )?,
        };
        let s3 = s.endpoint("s3_endpoint", &format!("https://s3.{region}.amazonaws.com"))?;
        let instance_count = s.positive("instance_count")?.unwrap_or(1);
        Ok(Config {
            api,
            runtime,
            s3,
            bucket: s.required("bucket")?,
            prefix: s.string("prefix").unwrap_or("ferry").to_owned(),
            image: s.required("image")?,
            role_arn: s.required("role_arn")?,
            instance_type: s
                .string("instance_type")
                .unwrap_or("ml.m5.large")
                .to_owned(),
            instance_count: u32::try_from(instance_count).map_err(|_| {
                error(
                    INVALID_SETTING,
                    format!("setting `instance_count` = `{instance_count}` is too large"),
                )
            })?,
            retry,
        })
    }

    /// Where clients invoke an endpoint (the SageMaker runtime, not the control plane).
    pub fn invocation_url(&self, endpoint: &str) -> String {
        format!("{}/endpoints/{endpoint}/invocations", self.runtime.url())
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
        ferry_guest::testing::check_settings(SETTINGS, REQUIRED, Config::from_settings);
    }

    fn settings(pairs: &[(&str, &str)]) -> Result<Config, Error> {
        for_tests(pairs)
    }

    const REQUIRED: &[(&str, &str)] = &[
        ("bucket", "models"),
        ("image", "img:1"),
        ("role_arn", "arn:aws:iam::1:role/sm"),
    ];

    #[test]
    fn defaults_follow_the_region() {
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("region", "eu-west-1"));
        let infra = settings(&pairs).unwrap();
        assert_eq!(
            infra.api.url(),
            "https://api.sagemaker.eu-west-1.amazonaws.com"
        );
        assert_eq!(infra.s3.authority, "s3.eu-west-1.amazonaws.com");
        assert_eq!(infra.prefix, "ferry");
        assert_eq!(infra.instance_type, "ml.m5.large");
        assert_eq!(infra.instance_count, 1);
        assert_eq!(
            infra.invocation_url("d"),
            "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/d/invocations"
        );
    }

    #[test]
    fn a_custom_endpoint_is_where_clients_invoke_too() {
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("endpoint", "http://127.0.0.1:5000"));
        let infra = settings(&pairs).unwrap();
        assert_eq!(
            infra.invocation_url("churn-sm"),
            "http://127.0.0.1:5000/endpoints/churn-sm/invocations"
        );
    }

    #[test]
    fn required_and_bad_settings_are_named() {
        let e = settings(&[("bucket", "b"), ("image", "i")]).err().unwrap();
        assert_eq!(e.code, "invalid_setting");
        assert!(e.message.contains("`role_arn`"), "{}", e.message);
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("endpoint", "localhost:5000"));
        let e = settings(&pairs).err().unwrap();
        assert!(e.message.starts_with("setting `endpoint`"), "{}", e.message);
        let mut pairs = REQUIRED.to_vec();
        pairs.push(("instance_count", "0"));
        assert!(settings(&pairs).is_err());
    }
}
