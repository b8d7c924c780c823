//! The plugin's settings, checked and defaulted once per call.

use ferry_guest::about::Setting;
use ferry_guest::http::{Endpoint, Retry};
use ferry_guest::types::{Error, SettingType};
use ferry_guest::{Settings, error};

/// Every setting the plugin takes; anything else is refused as a likely typo.
pub const SETTINGS: &[Setting] = &[
    Setting::required("project", SettingType::String, "the GCP project id"),
    Setting::with_default(
        "location",
        SettingType::String,
        "us-central1",
        "the Vertex AI region",
    ),
    Setting::optional(
        "endpoint",
        SettingType::String,
        "the Vertex AI API (default https://<location>-aiplatform.googleapis.com)",
    ),
    Setting::with_default(
        "gcs_endpoint",
        SettingType::String,
        "https://storage.googleapis.com",
        "the GCS JSON API the model artifacts go to",
    ),
    Setting::required(
        "bucket",
        SettingType::String,
        "the GCS bucket model artifacts are uploaded to",
    ),
    Setting::with_default(
        "prefix",
        SettingType::String,
        "ferry",
        "the object name prefix of model artifacts in the bucket",
    ),
    Setting::required(
        "image",
        SettingType::String,
        "the serving container's image URI",
    ),
    Setting::with_default(
        "machine_type",
        SettingType::String,
        "n1-standard-2",
        "the machine type of every deployed model",
    ),
    Setting::with_default(
        "min_replicas",
        SettingType::Integer,
        "1",
        "the fewest replicas of a deployed model",
    ),
    Setting::optional(
        "max_replicas",
        SettingType::Integer,
        "the most replicas of a deployed model (default min_replicas)",
    ),
    Setting::retries("5"),
];

#[derive(Debug, Clone)]
pub struct Config {
    pub project: String,
    pub location: String,
    /// The Vertex AI API (`https://{location}-aiplatform.googleapis.com`).
    pub api: Endpoint,
    /// The GCS JSON API the model artifacts go to.
    pub gcs: Endpoint,
    pub bucket: String,
    /// Object name prefix without slashes at either end (may be empty).
    pub prefix: String,
    /// The serving container's `imageUri`.
    pub image: String,
    pub machine_type: String,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub retry: Retry,
}

impl Config {
    pub fn load() -> Result<Config, Error> {
        Config::from_settings(&Settings::load(SETTINGS)?)
    }

    pub fn from_settings(s: &Settings) -> Result<Config, Error> {
        let project = s.required("project")?;
        let bucket = s.required("bucket")?;
        let image = s.required("image")?;
        let location = s.string("location").unwrap_or("us-central1").to_owned();
        let api = s.endpoint(
            "endpoint",
            &format!("https://{location}-aiplatform.googleapis.com"),
        )?;
        let gcs = s.endpoint("gcs_endpoint", "https://storage.googleapis.com")?;
        let min_replicas = s.positive("min_replicas")?.unwrap_or(1) as u32;
        let max_replicas = s
            .positive("max_replicas")?
            .map_or(min_replicas, |n| n as u32);
        if max_replicas < min_replicas {
            return Err(error(
                "invalid_setting",
                format!("`max_replicas` ({max_replicas}) is below `min_replicas` ({min_replicas})"),
            ));
        }
        Ok(Config {
            project,
            location,
            api,
            gcs,
            bucket,
            prefix: s
                .string("prefix")
                .unwrap_or("ferry")
                .trim_matches('/')
                .to_owned(),
            image,
            machine_type: s
                .string("machine_type")
                .unwrap_or("n1-standard-2")
                .to_owned(),
            min_replicas,
            max_replicas,
            retry: s.retry(5)?,
        })
    }

    /// `projects/{project}/locations/{location}`, the parent of models and endpoints.
    pub fn parent(&self) -> String {
        format!("projects/{}/locations/{}", self.project, self.location)
    }

    /// Where a version's artifacts live in the bucket: `{prefix}/{deployment}/{version}/`.
    pub fn artifact_dir(&self, deployment: &str, version: &str) -> String {
        let mut dir = String::new();
        for part in [self.prefix.as_str(), deployment, version] {
            if !part.is_empty() {
                dir.push_str(part);
                dir.push('/');
            }
        }
        dir
    }

    /// `gs://{bucket}/{artifact_dir}`: the model's `artifactUri`.
    pub fn artifact_uri(&self, deployment: &str, version: &str) -> String {
        format!(
            "gs://{}/{}",
            self.bucket,
            self.artifact_dir(deployment, version)
        )
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
        ferry_guest::testing::check_settings(SETTINGS, MINIMAL, Config::from_settings);
    }

    const MINIMAL: &[(&str, &str)] = &[
        ("project", "proj1"),
        ("bucket", "models"),
        ("image", "us-docker.pkg.dev/x/y:1"),
    ];

    #[test]
    fn defaults() {
        let c = for_tests(MINIMAL).unwrap();
        assert_eq!(c.api.url(), "https://us-central1-aiplatform.googleapis.com");
        assert_eq!(c.gcs.url(), "https://storage.googleapis.com");
        assert_eq!(c.parent(), "projects/proj1/locations/us-central1");
        assert_eq!((c.min_replicas, c.max_replicas), (1, 1));
        assert_eq!(c.machine_type, "n1-standard-2");
        assert_eq!(c.artifact_uri("churn", "v2"), "gs://models/ferry/churn/v2/");
    }

    #[test]
    fn the_location_names_the_default_endpoint_and_max_follows_min() {
        let mut pairs = MINIMAL.to_vec();
        pairs.extend([
            ("location", "europe-west4"),
            ("min_replicas", "3"),
            ("prefix", "/"),
        ]);
        let c = for_tests(&pairs).unwrap();
        assert_eq!(
            c.api.url(),
            "https://europe-west4-aiplatform.googleapis.com"
        );
        assert_eq!((c.min_replicas, c.max_replicas), (3, 3));
        assert_eq!(c.artifact_dir("churn", "v2"), "churn/v2/");
    }

    #[test]
    fn bad_settings_are_named() {
        let err = for_tests(&MINIMAL[..2]).unwrap_err();
        assert!(err.message.contains("`image`"), "{}", err.message);
        let mut pairs = MINIMAL.to_vec();
        pairs.extend([("min_replicas", "2"), ("max_replicas", "1")]);
        assert!(for_tests(&pairs).unwrap_err().message.contains("below"));
        let mut pairs = MINIMAL.to_vec();
        pairs.push(("endpiont", "http://x"));
        assert!(
            for_tests(&pairs)
                .unwrap_err()
                .message
                .contains("did you mean `endpoint`")
        );
    }
}
