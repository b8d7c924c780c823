//! The workflow file as written: serde types that mirror the TOML one to one. Every table
//! denies unknown keys, so a typo is an error rather than a silently ignored setting.

mod deploy;
mod import;
mod ingest;
mod service;
mod test_case;
mod validate;

pub use deploy::*;
pub use import::*;
pub use ingest::*;
pub use service::*;
pub use test_case::*;
pub use validate::*;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// Top level of a workflow file. Steps are kept as raw tables here and decoded per `kind`
/// afterwards, so that an error inside a step can name the step.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkflow {
    /// `kind = "workflow"` (the default) — see [`FileKind`]; the other kinds are told apart
    /// before this is decoded, so only its presence matters here.
    #[serde(default)]
    #[allow(dead_code)]
    pub kind: Option<FileKind>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub plugins: BTreeMap<String, RawPlugin>,
    #[serde(default)]
    pub credentials: BTreeMap<String, CredentialSpec>,
    /// The API service a `package` step packages.
    pub service: Option<ServiceSpec>,
    /// Or a file holding it (`id`, `description`, `[[endpoints]]`), shared by workflows; its
    /// artifact paths are relative to it.
    pub service_file: Option<PathBuf>,
    /// Infras a `deploy` step may deploy to; raw here, decoded by [`InfraSpec::decode`] so the
    /// stored form can carry the credential declarations it uses.
    #[serde(default)]
    pub infras: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub steps: Vec<toml::Spanned<toml::Table>>,
    #[serde(default)]
    pub tests: Vec<toml::Spanned<RawTestCase>>,
}

/// A custom plugin: `name = "path.wasm"`, or pinned, `name = { path = "…", sha256 = "…" }`
/// (a file whose digest differs is refused; `ferry plugin inspect` prints the line).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawPlugin {
    Path(PathBuf),
    Pinned(PinnedPlugin),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinnedPlugin {
    pub path: PathBuf,
    pub sha256: String,
}

/// What a ferry TOML file holds, by its top-level `kind` key, so one directory (such as
/// `workflows/`) can hold workflows beside the infra and service files they use, and
/// `ferry validate` and `ferry serve` tell them apart. Without `kind`, a file is a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Workflow,
    /// `[credentials.*]` and `[infras.*]`, for `ferry infras apply`.
    Infras,
    /// A `[service]` on its own (`id`, `[[endpoints]]`), named by workflows' `service_file`.
    Service,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Workflow => "workflow",
            FileKind::Infras => "infras",
            FileKind::Service => "service",
        }
    }

    /// The kind a file's text declares; `None` when it is not TOML or `kind` is not one of
    /// the kinds (the file's own parser then says what is wrong).
    pub fn of(text: &str) -> Option<FileKind> {
        #[derive(Deserialize)]
        struct Head {
            kind: Option<FileKind>,
        }
        match toml::from_str::<Head>(text) {
            Ok(Head { kind }) => Some(kind.unwrap_or(FileKind::Workflow)),
            Err(_) => None,
        }
    }
}

/// The kinds of step ferry knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    Import,
    Validate,
    Ingest,
    Package,
    Deploy,
}

impl StepKind {
    pub const ALL: [&'static str; 5] = ["import", "validate", "ingest", "package", "deploy"];
}
