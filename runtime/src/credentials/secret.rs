//! Secret values and where the host finds them: environment variables first, then a secrets
//! file given to `ferry`, then the home's secret store (`ferry secrets set`, sealed by
//! [`super::vault`]). Workflows only ever name a secret; its value never enters a workflow
//! file, a job record, a log line or a plugin.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A secret value. It has no `Display` and its `Debug` prints nothing of the value, so it
/// cannot end up in a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must use it (signing a request).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Where secret values come from.
///
/// Field `field` of credential `name` is read from the environment variable
/// `FERRY_SECRET_<NAME>_<FIELD>` (upper case, `-` as `_`), else from `[name] field = "…"` in the
/// secrets file, else from the home's secret store.
#[derive(Clone, Default)]
pub struct SecretSource {
    file: Option<PathBuf>,
    values: BTreeMap<String, BTreeMap<String, Secret>>,
    stored: BTreeMap<(String, String), Stored>,
}

/// A value of the secret store, opened; one that did not open keeps why, for the error that
/// names it when a credential needs it.
#[derive(Clone)]
enum Stored {
    Value(Secret),
    Unusable(String),
}

/// The fields a credential's secrets may have, over every kind: what `ferry secrets set`
/// accepts.
pub const SECRET_FIELDS: &[&str] = &[
    "access_key_id",
    "secret_access_key",
    "session_token",
    "token",
    "access_token",
    "service_account_key",
];

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSource")
            .field("file", &self.file)
            .field("credentials", &self.values.keys().collect::<Vec<_>>())
            .field("stored", &self.stored.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("cannot read secrets file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The TOML error's own message is not shown: it may quote a secret value.
    #[error(
        "secrets file {path} is not valid: expected TOML tables of strings, `[name]` then `field = \"value\"`{at}"
    )]
    Invalid { path: PathBuf, at: String },
}

impl SecretSource {
    /// Secrets from the environment only.
    pub fn environment() -> Self {
        SecretSource::default()
    }

    /// Secrets from the environment, then from `path`.
    pub fn with_file(path: &Path) -> Result<Self, SecretFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |at: String| SecretFileError::Invalid {
            path: path.to_owned(),
            at,
        };
        let table: toml::Table = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
                .unwrap_or_default();
            invalid(at)
        })?;
        let mut values = BTreeMap::new();
        for (name, fields) in table {
            let toml::Value::Table(fields) = fields else {
                return Err(invalid(format!(" (`{name}` is not a table)")));
            };
            let mut map = BTreeMap::new();
            for (field, value) in fields {
                let toml::Value::String(value) = value else {
                    return Err(invalid(format!(" (`{name}.{field}` is not a string)")));
                };
                map.insert(field, Secret(value));
            }
            values.insert(name, map);
        }
        Ok(SecretSource {
            file: Some(path.to_owned()),
            values,
            stored: BTreeMap::new(),
        })
    }

    /// This source, with the secret store's values (as opened) behind the environment and the
    /// file.
    pub fn with_stored<E: fmt::Display>(
        mut self,
        entries: impl IntoIterator<Item = (String, String, Result<Secret, E>)>,
    ) -> Self {
        self.stored = entries
            .into_iter()
            .map(|(name, field, value)| {
                let value = match value {
                    Ok(secret) => Stored::Value(secret),
                    Err(e) => Stored::Unusable(e.to_string()),
                };
                ((name, field), value)
            })
            .collect();
        self
    }

    /// The environment variable that holds `field` of credential `name`.
    pub fn env_var(name: &str, field: &str) -> String {
        format!("FERRY_SECRET_{name}_{field}")
            .to_ascii_uppercase()
            .replace(['-', '.'], "_")
    }

    pub fn get(&self, name: &str, field: &str) -> Option<Secret> {
        if let Ok(v) = std::env::var(Self::env_var(name, field))
            && !v.is_empty()
        {
            return Some(Secret(v));
        }
        if let Some(value) = self.values.get(name).and_then(|f| f.get(field)) {
            return Some(value.clone());
        }
        match self.stored.get(&(name.to_owned(), field.to_owned()))? {
            Stored::Value(secret) => Some(secret.clone()),
            Stored::Unusable(_) => None,
        }
    }

    /// Where a user should put a missing value, for error messages.
    pub fn describe(&self, name: &str, field: &str) -> String {
        if let Some(Stored::Unusable(why)) = self.stored.get(&(name.to_owned(), field.to_owned())) {
            return format!("the secret store holds it, but {why}");
        }
        let env = Self::env_var(name, field);
        match &self.file {
            Some(path) => format!(
                "set {env}, `{field}` under [{name}] in {}, or store it with `ferry secrets set {name} {field}`",
                path.display()
            ),
            None => format!(
                "set {env}, store it with `ferry secrets set {name} {field}`, or pass a secrets file with --secrets"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(..)");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        std::fs::write(&path, "[s3]\nsecret_access_key = \"hunter2\"\n").unwrap();
        let source = SecretSource::with_file(&path).unwrap();
        assert!(!format!("{source:?}").contains("hunter2"));
        assert_eq!(
            source.get("s3", "secret_access_key").unwrap().expose(),
            "hunter2"
        );
        assert!(source.get("s3", "session_token").is_none());
    }

    #[test]
    fn a_broken_file_is_reported_without_its_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        std::fs::write(&path, "[s3]\nsecret_access_key = hunter2\n").unwrap();
        let e = SecretSource::with_file(&path).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn the_store_comes_after_the_file_and_an_unusable_value_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        std::fs::write(&path, "[api]\ntoken = \"from-file\"\n").unwrap();
        let source = SecretSource::with_file(&path).unwrap().with_stored([
            (
                "api".to_owned(),
                "token".to_owned(),
                Ok(Secret::new("from-store")),
            ),
            (
                "db".to_owned(),
                "token".to_owned(),
                Ok(Secret::new("stored")),
            ),
            (
                "gone".to_owned(),
                "token".to_owned(),
                Err(super::super::VaultError::WrongKey {
                    credential: "gone".into(),
                    field: "token".into(),
                }),
            ),
        ]);
        assert_eq!(source.get("api", "token").unwrap().expose(), "from-file");
        assert_eq!(source.get("db", "token").unwrap().expose(), "stored");
        assert!(source.get("gone", "token").is_none());
        assert!(
            source
                .describe("gone", "token")
                .contains("another master key")
        );
        assert!(
            source
                .describe("db", "access_token")
                .contains("ferry secrets set db access_token")
        );
        assert!(!format!("{source:?}").contains("stored\""));
    }

    #[test]
    fn env_names_are_upper_snake() {
        assert_eq!(
            SecretSource::env_var("prod-s3", "access_key_id"),
            "FERRY_SECRET_PROD_S3_ACCESS_KEY_ID"
        );
    }
}
