//! `ferry-plugin.toml`, written by `ferry plugin new`: what the project is, so `ferry plugin
//! build` knows which toolchain to run and which world the result must export.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::KitError;

/// The manifest's file name in a project's root.
pub const MANIFEST: &str = "ferry-plugin.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Rust,
    Python,
}

impl Language {
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The plugin's name (`my-parser`), also the `[plugins]` key its workflow uses.
    pub name: String,
    /// `source`, `parser`, `predictor` or `deployer`.
    pub kind: String,
    pub language: Language,
    /// The WIT world it implements (`parser-plugin`).
    pub world: String,
    /// The `ferry:plugin` version it was made for.
    pub wit: String,
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Manifest, KitError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => KitError::Manifest {
                path: path.clone(),
                message: "not a ferry plugin project (no ferry-plugin.toml; `ferry plugin new` makes one)".into(),
            },
            _ => KitError::Io {
                path: path.clone(),
                source,
            },
        })?;
        toml::from_str(&text).map_err(|e| KitError::Manifest {
            path,
            message: e.message().trim().to_owned(),
        })
    }

    /// The `.wasm` file's stem: the name with `-` as `_`, as cargo names a cdylib.
    pub fn module(&self) -> String {
        self.name.replace('-', "_")
    }
}
