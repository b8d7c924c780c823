//! The SDKs on disk: `ferry plugin sdk` writes a versioned copy of the embedded WIT package,
//! Rust crate (`ferry-guest`) and Python module (`ferry_guest`), and projects depend on it by
//! path. A copy is never changed once written (its directory is named for its content), so a
//! project keeps building against the SDK it was made with while a newer ferry writes its own.

use std::path::{Path, PathBuf};

use super::error::KitError;
use super::files;

/// Kit directories that make up the SDK.
const PARTS: &[&str] = &["wit", "sdk/rust", "sdk/python"];

/// An SDK written out: `wit/`, `rust/ferry-guest/`, `python/ferry_guest/`.
#[derive(Debug, Clone)]
pub struct Sdk {
    pub root: PathBuf,
    pub version: String,
}

/// Where SDK copies go unless told: `$FERRY_SDK_DIR`, else `$XDG_DATA_HOME/ferry/sdk`, else
/// `~/.local/share/ferry/sdk`.
pub fn default_sdk_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("FERRY_SDK_DIR") {
        return PathBuf::from(dir);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("ferry").join("sdk")
}

impl Sdk {
    /// This ferry's SDK version: ferry's version and a digest of the SDK's files.
    pub fn version() -> String {
        format!(
            "{}-{}",
            env!("CARGO_PKG_VERSION"),
            &files::digest(PARTS)[..12]
        )
    }

    /// The SDK under `base`, written first if this version is not there yet.
    pub fn ensure(base: &Path) -> Result<Sdk, KitError> {
        let version = Self::version();
        let root = base.join(&version);
        let sdk = Sdk {
            root: std::path::absolute(&root).unwrap_or(root),
            version,
        };
        if sdk.root.join(".complete").is_file() {
            return Ok(sdk);
        }
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| KitError::Io { path, source }
        };
        std::fs::create_dir_all(base).map_err(io(base))?;
        // Written beside and renamed into place, so a half-written SDK is never used.
        let staging = tempfile::Builder::new()
            .prefix(".sdk-")
            .tempdir_in(base)
            .map_err(io(base))?;
        let put = |rel: &str, bytes: &[u8]| -> Result<(), KitError> {
            let path = staging.path().join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(&path, bytes).map_err(io(&path))
        };
        for (rel, bytes) in files::tree("wit") {
            put(&format!("wit/{rel}"), bytes)?;
        }
        for (rel, bytes) in files::tree("sdk") {
            put(rel, bytes)?;
        }
        let manifest = files::file("templates/sdk/ferry-guest.Cargo.toml").expect("embedded");
        let manifest =
            String::from_utf8_lossy(manifest).replace("{{version}}", env!("CARGO_PKG_VERSION"));
        put("rust/ferry-guest/Cargo.toml", manifest.as_bytes())?;
        put(".complete", sdk.version.as_bytes())?;
        let staged = staging.keep();
        match std::fs::rename(&staged, &sdk.root) {
            Ok(()) => Ok(sdk),
            // Another ferry wrote the same version meanwhile: same content, keep theirs.
            Err(_) if sdk.root.join(".complete").is_file() => {
                let _ = std::fs::remove_dir_all(&staged);
                Ok(sdk)
            }
            Err(source) => Err(KitError::Io {
                path: sdk.root.clone(),
                source,
            }),
        }
    }

    /// The `ferry-guest` crate, for a Rust project's path dependency.
    pub fn rust_crate(&self) -> PathBuf {
        self.root.join("rust").join("ferry-guest")
    }

    /// The directory holding the `ferry_guest` Python module (componentize-py's `-p`).
    pub fn python_path(&self) -> PathBuf {
        self.root.join("python")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_is_written_once_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = Sdk::ensure(dir.path()).unwrap();
        assert!(sdk.rust_crate().join("src/lib.rs").is_file());
        assert!(sdk.rust_crate().join("Cargo.toml").is_file());
        assert!(sdk.root.join("wit/parser.wit").is_file());
        assert!(!sdk.root.join("wit/v0.1").exists());
        assert!(sdk.python_path().join("ferry_guest/__init__.py").is_file());
        // ferry-guest's bindings name `../../wit`.
        assert!(sdk.rust_crate().join("../../wit/types.wit").is_file());
        let again = Sdk::ensure(dir.path()).unwrap();
        assert_eq!(again.root, sdk.root);
        let entries = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(entries, 1, "no staging directory is left behind");
    }

    /// The SDK's manifest names the versions ferry's own plugins build with.
    #[test]
    fn sdk_dependencies_match_the_plugins_workspace() {
        let workspace: toml::Table = toml::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../plugins/Cargo.toml"
            ))
            .unwrap(),
        )
        .unwrap();
        let deps = workspace["workspace"]["dependencies"].as_table().unwrap();
        let sdk: toml::Table = toml::from_str(
            &String::from_utf8_lossy(files::file("templates/sdk/ferry-guest.Cargo.toml").unwrap())
                .replace("{{version}}", "0.0.0"),
        )
        .unwrap();
        let version = |v: &toml::Value| match v {
            toml::Value::String(s) => s.clone(),
            t => t["version"].as_str().unwrap().to_owned(),
        };
        for (name, spec) in sdk["dependencies"].as_table().unwrap() {
            assert_eq!(version(spec), version(&deps[name]), "{name}");
        }
    }
}
