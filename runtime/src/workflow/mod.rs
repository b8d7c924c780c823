//! Workflow files: the TOML model ([`model`]), loading with positioned errors, and the checks
//! that need nothing but the file itself (wiring, names, grants). Plugin checks need the plugin
//! host and live in the engine.

mod check;
pub mod model;
mod problem;
mod references;
mod settings;
mod spans;
mod timestamp;
mod variables;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use check::Checker;
pub use model::*;
pub use problem::{Location, Problem, WorkflowError, did_you_mean};
use problem::{Source, explain_unknown_field};
pub use references::{References, references, registered};
pub use settings::plugin_settings;
pub use timestamp::TimestampFormat;
pub use variables::{VariableError, substitute};

pub use check::{infra_grant_names, is_identifier, ungranted_credentials};

/// A loaded workflow whose structure is valid: one import, an optional validate, one ingest.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub name: String,
    pub description: Option<String>,
    /// Absolute path of the file it was loaded from.
    pub path: PathBuf,
    /// The file's text, kept so a job can be resumed with exactly what it started with.
    pub text: String,
    /// Custom plugins by name, paths made absolute.
    pub plugins: BTreeMap<String, PathBuf>,
    /// The SHA-256 each pinned custom plugin must have (lowercase hex).
    pub plugin_digests: BTreeMap<String, String>,
    /// `[[tests]]`, for `ferry test`.
    pub tests: Vec<TestCase>,
    /// Declared credentials by name (no secret values).
    pub credentials: BTreeMap<String, CredentialSpec>,
    pub import: ImportStep,
    pub validate: Option<ValidateStep>,
    pub ingest: IngestStep,
    /// The service a `package` step packages, and that step.
    pub service: Option<ServiceSpec>,
    /// The file the `[service]` was read from, when `service_file` names one.
    pub service_file: Option<PathBuf>,
    pub package: Option<PackageStep>,
    /// Infras declared in this file: decoded, and as stored (standing on their own).
    pub infras: BTreeMap<String, (InfraSpec, toml::Table)>,
    pub deploy: Option<DeployStep>,
    step_spans: BTreeMap<String, Range<usize>>,
}

impl Workflow {
    /// Reads and checks a workflow file.
    pub fn load(path: &Path) -> Result<Workflow, WorkflowError> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    /// Reads a workflow file, fills in its `${name}` variables (from `given`, else `project`)
    /// and checks it. The workflow's `text` is the filled-in text, so a resumed job sees the
    /// values it started with.
    pub fn load_with(
        path: &Path,
        project: &BTreeMap<String, String>,
        given: &BTreeMap<String, String>,
    ) -> Result<Workflow, WorkflowError> {
        let text = read_text(path)?;
        let text = substitute(path, &text, project, given)?;
        Self::parse(path, &text)
    }

    /// Checks workflow `text` as if read from `path` (used to resume a job from its snapshot).
    pub fn parse(path: &Path, text: &str) -> Result<Workflow, WorkflowError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        let src = Source::new(&path, text);
        if let Some(kind @ (FileKind::Infras | FileKind::Service)) = FileKind::of(text) {
            let at = src.top_key_span("kind").unwrap_or(0..0);
            let how = match kind {
                FileKind::Infras => "store its infras with `ferry infras apply FILE`",
                _ => "name it from a workflow with `service_file = \"…\"`",
            };
            return Err(WorkflowError::Invalid(vec![src.problem(
                at,
                format!(
                    "this is a file of kind `{}`, not a workflow: {how}",
                    kind.name()
                ),
            )]));
        }
        let raw: RawWorkflow = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_owned();
            let problem = match explain_unknown_field(&message) {
                Some((_, text)) => src.problem(span, text),
                None => src.problem(span, message),
            };
            WorkflowError::Invalid(vec![problem])
        })?;
        Checker::new(src, raw).check()
    }

    /// Where step `step`'s key `key` is written (or the step itself, or the file start).
    pub fn location(&self, step: &str, key: &str) -> Location {
        let src = Source::new(&self.path, &self.text);
        let span = self.step_spans.get(step).cloned().unwrap_or(0..0);
        let at = src.key_span(&span, key).unwrap_or(span);
        Location::at(&self.path, &self.text, at.start)
    }

    /// Where `"quoted"` first appears after `key` in a step (one entry of a list, such as a
    /// mapping by its column name), or the key's place when it cannot be found.
    pub fn location_in(&self, step: &str, key: &str, quoted: &str) -> Location {
        let src = Source::new(&self.path, &self.text);
        let span = self.step_spans.get(step).cloned().unwrap_or(0..0);
        let from = src.key_span(&span, key).map_or(span.start, |k| k.start);
        let needle = format!("\"{quoted}\"");
        // A step's span is its header: its body runs to the next `[[` header.
        let body = &self.text[from..];
        let body = &body[..body.find("\n[[").unwrap_or(body.len())];
        let at = body.find(&needle).map_or(from, |i| from + i);
        Location::at(&self.path, &self.text, at)
    }

    /// The start of the file, for problems about the workflow as a whole.
    pub fn start(&self) -> Location {
        Location::at(&self.path, &self.text, 0)
    }

    /// The directory relative paths in the workflow are resolved against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    /// Whether this run skips objects earlier jobs passed.
    pub fn incremental(&self) -> bool {
        self.import
            .incremental
            .unwrap_or(self.ingest.mode != IngestMode::Replace)
    }

    /// A granted directory's host path, resolved against the workflow's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.dir().join(path)
    }
}

/// A workflow (or infra, or service) file's text. A file that is there but not UTF-8 is an
/// invalid workflow (with the offset of the first bad byte), not a missing one.
pub fn read_text(path: &Path) -> Result<String, WorkflowError> {
    let bytes = std::fs::read(path).map_err(|source| WorkflowError::Read {
        path: path.to_owned(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let location = Location::at(path, &text, at);
        WorkflowError::Invalid(vec![Problem {
            location,
            message: format!(
                "the file is not UTF-8 text (a bad byte at offset {at}); save it as UTF-8"
            ),
        }])
    })
}

#[cfg(test)]
mod tests;
