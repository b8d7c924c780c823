//! What every deployer shares: the `deployer` interface's records as plain Rust (the
//! interface, not `types`, defines them, so each deployer maps these into its bindings with
//! wit-bindgen's `with`), the package manifest as far as deployers read it, and the plugin's
//! own state carried by the host.
//!
//! ```text
//! with: {
//!     "ferry:plugin/types@0.2.0": ferry_guest::types,
//!     "ferry:plugin/host@0.2.0": ferry_guest::host,
//!     "ferry:plugin/deployer@0.2.0/version-ref": ferry_guest::deploy::VersionRef,
//!     "ferry:plugin/deployer@0.2.0/target": ferry_guest::deploy::Target,
//!     "ferry:plugin/deployer@0.2.0/operation": ferry_guest::deploy::Operation,
//! }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::types::Error;

/// The `version-ref` record.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRef {
    pub version: String,
    pub percent: u8,
    pub archive: String,
    pub files: String,
    pub sha256: String,
}

/// The `target` record.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub deployment: String,
    pub service: String,
    pub stage: String,
    pub versions: Vec<VersionRef>,
    pub state: String,
}

impl Target {
    /// The plugin's state from earlier calls, or its default on the first one.
    pub fn state<S: DeserializeOwned + Default>(&self) -> Result<S, Error> {
        if self.state.trim().is_empty() {
            return Ok(S::default());
        }
        serde_json::from_str(&self.state).map_err(|e| {
            crate::error(
                "invalid_state",
                format!(
                    "deployment `{}`: the stored deployer state is not readable ({e}); delete and recreate the deployment",
                    self.deployment
                ),
            )
        })
    }

    /// The one version to serve, for targets that serve one at a time (`None`: disabled).
    pub fn single_version(&self, what: &str) -> Result<Option<&VersionRef>, Error> {
        match self.versions.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            _ => Err(crate::error(
                "unsupported",
                format!(
                    "{what} serve one version at a time; a traffic split needs a sagemaker or vertex infra"
                ),
            )),
        }
    }

    /// A name for a cloud resource of this deployment; see [`resource_name`].
    pub fn resource_name(&self, suffix: &str, max: usize) -> String {
        resource_name(&self.deployment, suffix, max)
    }
}

/// A name for a cloud resource of `deployment`: `<deployment>--<suffix>` (or the deployment
/// alone), fit for the clouds' rules — lowercase letters, digits and `-`, at most `max`
/// characters. Names of different deployments or suffixes never meet: `--` cannot occur in a
/// deployment id, and when cleaning or shortening changed anything, a hash of the exact
/// inputs is appended (`v1.2` and `v1-2` stay apart).
pub fn resource_name(deployment: &str, suffix: &str, max: usize) -> String {
    let (base, tail) = (clean_name(deployment), clean_name(suffix));
    let name = if tail.is_empty() {
        base.clone()
    } else {
        format!("{base}--{tail}")
    };
    if base == deployment && tail == suffix && name.len() <= max {
        return name;
    }
    let hash = fnv1a(deployment.as_bytes(), suffix.as_bytes());
    let mut short = name;
    short.truncate(max.saturating_sub(7));
    format!("{}-{:06x}", short.trim_end_matches('-'), hash & 0xff_ffff)
}

/// Lowercase letters, digits and `-`, everything else turned into `-` (label values, names).
pub fn clean_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// FNV-1a over `a`, a separator and `b`: stable across builds and platforms.
fn fnv1a(a: &[u8], b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in a.iter().chain(&[0u8]).chain(b) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The `operation` record.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub token: String,
    pub done: bool,
    pub message: String,
    pub state: String,
}

impl Operation {
    /// Finished: the target is as desired.
    pub fn done(message: impl Into<String>, state: &impl Serialize) -> Operation {
        Operation {
            token: String::new(),
            done: true,
            message: message.into(),
            state: to_json(state),
        }
    }

    /// Still going: `token` says what to check on in `poll`.
    pub fn pending(
        token: &impl Serialize,
        message: impl Into<String>,
        state: &impl Serialize,
    ) -> Operation {
        Operation {
            token: to_json(token),
            done: false,
            message: message.into(),
            state: to_json(state),
        }
    }

    /// The token handed back to `poll`.
    pub fn token<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.token).map_err(|e| {
            crate::error(
                "invalid_operation",
                format!("the operation's token is not readable: {e}"),
            )
        })
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("deployer state serializes")
}

/// The parts of a package's `manifest.json` deployers read.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Manifest {
    pub service: String,
    pub version: String,
    #[serde(default)]
    pub endpoints: Vec<serde_json::Value>,
}

impl Manifest {
    /// Reads `<files>/manifest.json` of a version (the host verified the package already).
    pub fn read(version: &VersionRef) -> Result<Manifest, Error> {
        let path = format!("{}/manifest.json", version.files);
        let bytes = std::fs::read(&path)
            .map_err(|e| crate::error("package_unreadable", format!("cannot read {path}: {e}")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| crate::error("package_unreadable", format!("{path}: {e}")))
    }
}

/// Every file under `dir`, as (path relative to `dir` with `/`, bytes), in name order.
pub fn files_under(dir: &str) -> Result<Vec<(String, Vec<u8>)>, Error> {
    fn walk(
        root: &std::path::Path,
        dir: &std::path::Path,
        out: &mut Vec<(String, Vec<u8>)>,
    ) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("under the root")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, std::fs::read(&path)?));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(
        std::path::Path::new(dir),
        std::path::Path::new(dir),
        &mut out,
    )
    .map_err(|e| crate::error("package_unreadable", format!("cannot read {dir}: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_fit_cloud_rules_and_never_meet() {
        assert_eq!(resource_name("churn-edge", "v2", 63), "churn-edge--v2");
        assert_eq!(resource_name("churn-edge", "", 63), "churn-edge");
        // Cleaned or shortened: a hash of the exact inputs keeps them apart.
        let dotted = resource_name("churn", "v1.2", 63);
        let dashed = resource_name("churn", "v1-2", 63);
        assert!(
            dotted.starts_with("churn--v1-2-") && dotted != dashed,
            "{dotted}"
        );
        assert_ne!(resource_name("a", "b-c", 63), resource_name("a-b", "c", 63));
        let long = resource_name(&"d".repeat(40), &"v".repeat(40), 63);
        assert_eq!(long.len(), 63);
        assert_ne!(long, resource_name(&"d".repeat(40), &"v".repeat(41), 63));
        assert_eq!(clean_name("Churn_Edge.1"), "churn-edge-1");
    }

    #[test]
    fn state_and_tokens_round_trip() {
        #[derive(serde::Serialize, serde::Deserialize, Default, PartialEq, Debug)]
        struct S {
            nodes: Vec<String>,
        }
        let mut t = Target {
            deployment: "d".into(),
            service: "s".into(),
            stage: "dev".into(),
            versions: vec![],
            state: String::new(),
        };
        assert_eq!(t.state::<S>().unwrap(), S::default());
        let op = Operation::pending(
            &"op-1",
            "creating",
            &S {
                nodes: vec!["a".into()],
            },
        );
        assert!(!op.done);
        assert_eq!(op.token::<String>().unwrap(), "op-1");
        t.state = op.state;
        assert_eq!(t.state::<S>().unwrap().nodes, ["a"]);
        t.state = "{".into();
        assert_eq!(t.state::<S>().unwrap_err().code, "invalid_state");
    }

    #[test]
    fn one_version_at_a_time() {
        let v = |n: &str, p| VersionRef {
            version: n.into(),
            percent: p,
            archive: String::new(),
            files: String::new(),
            sha256: String::new(),
        };
        let mut t = Target {
            deployment: "d".into(),
            service: "s".into(),
            stage: "dev".into(),
            versions: vec![],
            state: String::new(),
        };
        assert!(t.single_version("nodes").unwrap().is_none());
        t.versions = vec![v("v1", 100)];
        assert_eq!(t.single_version("nodes").unwrap().unwrap().version, "v1");
        t.versions = vec![v("v1", 50), v("v2", 50)];
        assert_eq!(t.single_version("nodes").unwrap_err().code, "unsupported");
    }
}
