//! `ferry-export.json`, the manifest at the root of every export zip: the format and its
//! version, each object with the files that hold it and what it depends on, and the SHA-256
//! and size of every other file — so an import can refuse a zip that is not an export, is of a
//! newer format, or was changed after it was written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::archive::FileEntry;

/// The manifest's name inside the zip.
pub const MANIFEST: &str = "ferry-export.json";
/// What `format` says in every ferry export.
pub const FORMAT: &str = "ferry-export";
/// The version of the layout this ferry writes (and the newest it reads).
pub const FORMAT_VERSION: u32 = 1;
/// Where the values of secrets asked for with `include_value` are, encrypted with age to the
/// export's passphrase (a JSON object `{"credential.field": "value"}` inside).
pub const SECRET_VALUES: &str = "secrets.age";
/// Project variables' values (a JSON object by name); plain text, as variables are.
pub const VARIABLES: &str = "variables.json";

/// The kinds of object an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// A workflow file (and the service file it names), under `workflows/`.
    Workflow,
    /// A custom plugin component a workflow names, under `workflows/`.
    Plugin,
    /// Package versions of a service, `packages/<service>/<version>.zip`.
    Service,
    /// A stored infra's declaration (credentials named, never their values).
    Infra,
    /// A deployment's desired state.
    Deployment,
    /// A project variable.
    Variable,
    /// A stored secret: its name, and its value only when asked for (encrypted).
    Secret,
}

impl ObjectKind {
    /// The word for one object of this kind, in messages.
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::Workflow => "workflow",
            ObjectKind::Plugin => "plugin",
            ObjectKind::Service => "service",
            ObjectKind::Infra => "infra",
            ObjectKind::Deployment => "deployment",
            ObjectKind::Variable => "variable",
            ObjectKind::Secret => "secret",
        }
    }
}

/// Something an object needs to work where it is imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dependency {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name.
    pub name: String,
    /// The package version, for a deployment's service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether this export holds it; if not, the importing home must have it already.
    pub in_export: bool,
}

/// One object of the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportObject {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name (`credential.field` for a secret, the deployment's id for a deployment).
    pub name: String,
    /// The zip entries that hold it.
    pub files: Vec<String>,
    /// A service's package versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// What it needs to work where it is imported.
    pub depends_on: Vec<Dependency>,
    /// A secret's: whether its value is in [`SECRET_VALUES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_included: Option<bool>,
}

/// The manifest of one export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportManifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The layout version ([`FORMAT_VERSION`] when written here).
    pub format_version: u32,
    /// The ferry that wrote it.
    pub ferry_version: String,
    /// The export's id in the home that wrote it.
    pub export_id: String,
    /// When it was asked for (RFC 3339).
    pub created_at: String,
    /// Every object, in the order an import creates them.
    pub objects: Vec<ExportObject>,
    /// Every entry of the zip but the manifest, with its checksum.
    pub files: BTreeMap<String, FileEntry>,
}
