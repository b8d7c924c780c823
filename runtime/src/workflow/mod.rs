//! Workflow files: the TOML model ([`model`]), loading with positioned errors, and the checks
//! that need nothing but the file itself (wiring, names, grants). Plugin checks need the plugin
//! host and live in the engine.

mod credentials;
pub mod model;
mod problem;
mod settings;
mod spans;
mod timestamp;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::paths::{self, NameKind};

pub use model::*;
pub use problem::{Location, Problem, WorkflowError, did_you_mean};
use problem::{Source, explain_unknown_field};
pub use settings::plugin_settings;
pub use timestamp::TimestampFormat;

pub use credentials::{infra_grant_names, ungranted_credentials};

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
            .unwrap_or(self.ingest.mode == IngestMode::Append)
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

/// Problems that get a "did you mean" (each compares with every name).
const SUGGESTIONS: usize = 20;

/// Collects every problem rather than stopping at the first, as `ferry validate` should.
struct Checker<'a> {
    src: Source<'a>,
    raw: RawWorkflow,
    problems: Vec<Problem>,
}

enum Decoded {
    Import(ImportStep),
    Validate(ValidateStep),
    Ingest(IngestStep),
    Package(PackageStep),
    Deploy(DeployStep),
}

impl Decoded {
    fn name(&self) -> &str {
        match self {
            Decoded::Import(s) => &s.name,
            Decoded::Validate(s) => &s.name,
            Decoded::Ingest(s) => &s.name,
            Decoded::Package(s) => &s.name,
            Decoded::Deploy(s) => &s.name,
        }
    }

    fn input(&self) -> Option<&str> {
        match self {
            Decoded::Import(_) => None,
            Decoded::Validate(s) => Some(&s.input),
            Decoded::Ingest(s) => Some(&s.input),
            Decoded::Package(s) => Some(&s.input),
            Decoded::Deploy(s) => Some(&s.input),
        }
    }

    fn kind(&self) -> StepKind {
        match self {
            Decoded::Import(_) => StepKind::Import,
            Decoded::Validate(_) => StepKind::Validate,
            Decoded::Ingest(_) => StepKind::Ingest,
            Decoded::Package(_) => StepKind::Package,
            Decoded::Deploy(_) => StepKind::Deploy,
        }
    }
}

impl<'a> Checker<'a> {
    fn new(src: Source<'a>, raw: RawWorkflow) -> Self {
        Checker {
            src,
            raw,
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.problems.push(self.src.problem(span, message));
    }

    /// Points at `key` inside the step when it can be found, else at the step header.
    fn step_problem(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let at = self.src.key_span(span, key).unwrap_or(span.clone());
        self.problem(at, message);
    }

    fn check(mut self) -> Result<Workflow, WorkflowError> {
        self.load_service_file();
        let steps = std::mem::take(&mut self.raw.steps);
        if steps.is_empty() {
            self.problem(
                0..0,
                "the workflow has no steps: add [[steps]] tables (import, validate, ingest)",
            );
        }
        let mut decoded: Vec<(Decoded, Range<usize>)> = Vec::new();
        let total = steps.len();
        for (index, step) in steps.into_iter().enumerate() {
            let span = step.span();
            if let Some(d) = self.decode_step(step.into_inner(), &span, index) {
                decoded.push((d, span));
            }
        }
        // Wiring is judged only on a complete set of steps, to avoid errors that merely echo
        // a step that did not decode.
        if decoded.len() == total {
            self.check_wiring(&decoded);
        }
        for (step, span) in &decoded {
            match step {
                Decoded::Import(s) => self.check_import(s, span),
                Decoded::Validate(s) => self.check_validate(s, span),
                Decoded::Ingest(s) => self.check_ingest(s, span),
                Decoded::Package(s) => self.check_package(s, span),
                Decoded::Deploy(s) => self.check_deploy(s, span),
            }
        }
        if decoded.len() == total {
            self.check_credentials_granted(&decoded);
        }
        let file_stem = self
            .src
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "workflow".to_owned());
        let name = self.raw.name.clone().unwrap_or(file_stem);
        if let Err(e) = paths::check(NameKind::Workflow, &name) {
            let at = self.src.top_key_span("name").unwrap_or(0..0);
            self.problem(at, e.to_string());
        }
        let dir = self.src.path.parent().unwrap_or(Path::new(".")).to_owned();
        let infras = self.decode_infras();
        let plugins = self
            .raw
            .plugins
            .iter()
            .map(|(k, v)| (k.clone(), dir.join(v)))
            .collect();

        if !self.problems.is_empty() {
            return Err(WorkflowError::Invalid(self.problems));
        }
        let mut import = None;
        let mut validate = None;
        let mut ingest = None;
        let mut package = None;
        let mut deploy = None;
        let mut step_spans = BTreeMap::new();
        for (step, span) in decoded {
            step_spans.insert(step.name().to_owned(), span);
            match step {
                Decoded::Import(s) => import = Some(s),
                Decoded::Validate(s) => validate = Some(s),
                Decoded::Ingest(s) => ingest = Some(s),
                Decoded::Package(s) => package = Some(s),
                Decoded::Deploy(s) => deploy = Some(s),
            }
        }
        if let (Some(import), Some(ingest)) = (&import, &ingest)
            && import.incremental == Some(true)
            && ingest.mode == IngestMode::Replace
        {
            let span = step_spans.get(&import.name).cloned().unwrap_or(0..0);
            let at = self.src.key_span(&span, "incremental").unwrap_or(span);
            return Err(WorkflowError::Invalid(vec![self.src.problem(
                at,
                "incremental = true cannot go with ingest mode = \"replace\", which rewrites the table from every object",
            )]));
        }
        Ok(Workflow {
            name,
            description: self.raw.description.clone(),
            path: self.src.path.to_owned(),
            text: self.src.text.to_owned(),
            plugins,
            credentials: self.raw.credentials.clone(),
            import: import.expect("wiring check guarantees an import step"),
            validate,
            ingest: ingest.expect("wiring check guarantees an ingest step"),
            service: self.raw.service.clone(),
            service_file: self.raw.service_file.as_ref().map(|f| dir.join(f)),
            package,
            infras,
            deploy,
            step_spans,
        })
    }

    fn decode_step(
        &mut self,
        table: toml::Table,
        span: &Range<usize>,
        index: usize,
    ) -> Option<Decoded> {
        let Some(kind) = table
            .get("kind")
            .and_then(|k| k.as_str())
            .map(str::to_owned)
        else {
            self.problem(
                span.clone(),
                format!(
                    "step has no `kind`; use one of: {}",
                    StepKind::ALL.join(", ")
                ),
            );
            return None;
        };
        if table.get("name").and_then(|n| n.as_str()).is_none() {
            self.problem(span.clone(), "step has no `name`");
            return None;
        }
        let value = toml::Value::Table(table);
        let result = match kind.as_str() {
            "import" => ImportStep::deserialize(value).map(Decoded::Import),
            "validate" => ValidateStep::deserialize(value).map(Decoded::Validate),
            "ingest" => IngestStep::deserialize(value).map(Decoded::Ingest),
            "package" => PackageStep::deserialize(value).map(Decoded::Package),
            "deploy" => DeployStep::deserialize(value).map(Decoded::Deploy),
            other => {
                let mut message = format!("unknown step kind `{other}`");
                match did_you_mean(other, StepKind::ALL) {
                    Some(close) => message.push_str(&format!(", did you mean `{close}`?")),
                    None => message
                        .push_str(&format!("; expected one of: {}", StepKind::ALL.join(", "))),
                }
                self.step_problem(span, "kind", message);
                return None;
            }
        };
        match result {
            Ok(step) => Some(step),
            Err(e) => {
                let message = e.message().trim().to_owned();
                match explain_unknown_field(&message) {
                    Some((field, text)) => self.step_problem(span, &field, text),
                    None => {
                        // Decoded again from the text, the error has the value's span; else
                        // serde names the missing field in backticks: point at that key.
                        let at = match kind.as_str() {
                            "import" => spans::step_error_span::<ImportStep>(self.src.text, index),
                            "validate" => {
                                spans::step_error_span::<ValidateStep>(self.src.text, index)
                            }
                            "ingest" => spans::step_error_span::<IngestStep>(self.src.text, index),
                            "package" => {
                                spans::step_error_span::<PackageStep>(self.src.text, index)
                            }
                            "deploy" => spans::step_error_span::<DeployStep>(self.src.text, index),
                            _ => None,
                        };
                        match at {
                            Some(at) => self.problem(at, message),
                            None => {
                                let key = message.split('`').nth(1).unwrap_or("kind").to_owned();
                                self.step_problem(span, &key, message)
                            }
                        }
                    }
                }
                None
            }
        }
    }

    fn check_wiring(&mut self, steps: &[(Decoded, Range<usize>)]) {
        // Maps and sets, not lists: a file with thousands of steps is checked in linear time.
        let mut seen: HashMap<&str, StepKind> = HashMap::new();
        let mut consumed: HashSet<&str> = HashSet::new();
        for (step, span) in steps {
            let name = step.name();
            if !is_identifier(name) {
                self.step_problem(
                    span,
                    "name",
                    format!("step name `{name}` must use only letters, digits, `-` and `_`"),
                );
            }
            if seen.contains_key(name) {
                self.step_problem(span, "name", format!("two steps are named `{name}`"));
            }
            if let Some(input) = step.input() {
                match seen.get(input) {
                    None => {
                        let mut message = format!("input `{input}` is not an earlier step");
                        // Suggestions compare with every step: only for the first few problems.
                        if self.problems.len() < SUGGESTIONS
                            && let Some(close) = did_you_mean(input, seen.keys().copied())
                        {
                            message.push_str(&format!(", did you mean `{close}`?"));
                        }
                        self.step_problem(span, "input", message);
                    }
                    Some(input_kind) => {
                        let ok = match step.kind() {
                            StepKind::Validate => *input_kind == StepKind::Import,
                            StepKind::Ingest => {
                                matches!(input_kind, StepKind::Import | StepKind::Validate)
                            }
                            StepKind::Package => *input_kind == StepKind::Ingest,
                            StepKind::Deploy => *input_kind == StepKind::Package,
                            StepKind::Import => true,
                        };
                        if !ok {
                            self.step_problem(
                                span,
                                "input",
                                format!("a {:?} step cannot take its input from the {:?} step `{input}`", step.kind(), input_kind)
                                    .to_lowercase(),
                            );
                        }
                        consumed.insert(input);
                    }
                }
            }
            seen.entry(name).or_insert(step.kind());
        }
        for kind in [
            StepKind::Import,
            StepKind::Validate,
            StepKind::Ingest,
            StepKind::Package,
            StepKind::Deploy,
        ] {
            let count = steps.iter().filter(|(s, _)| s.kind() == kind).count();
            let kind_name = format!("{kind:?}").to_lowercase();
            if count > 1 {
                let span = steps
                    .iter()
                    .filter(|(s, _)| s.kind() == kind)
                    .nth(1)
                    .map(|(_, s)| s.clone())
                    .unwrap_or(0..0);
                self.problem(
                    span,
                    format!("only one {kind_name} step is supported per workflow"),
                );
            }
            let optional = matches!(
                kind,
                StepKind::Validate | StepKind::Package | StepKind::Deploy
            );
            if count == 0 && !optional && !steps.is_empty() {
                self.problem(0..0, format!("the workflow needs an {kind_name} step"));
            }
        }
        for (step, span) in steps {
            let last = matches!(
                step.kind(),
                StepKind::Ingest | StepKind::Package | StepKind::Deploy
            );
            if !last && !consumed.contains(step.name()) {
                self.step_problem(
                    span,
                    "name",
                    format!("nothing takes step `{}` as its input", step.name()),
                );
            }
        }
    }

    fn check_import(&mut self, step: &ImportStep, span: &Range<usize>) {
        let mut mounts: Vec<&str> = Vec::new();
        let dir = self.src.path.parent().unwrap_or(Path::new(".")).to_owned();
        for grant in &step.grants.dirs {
            if !grant.mount.starts_with('/') {
                self.step_problem(
                    span,
                    "dirs",
                    format!(
                        "grant mount `{}` must be an absolute path such as `/data`",
                        grant.mount
                    ),
                );
            }
            if mounts.contains(&grant.mount.as_str()) {
                self.step_problem(
                    span,
                    "dirs",
                    format!("two grants mount at `{}`", grant.mount),
                );
            }
            mounts.push(&grant.mount);
            let host = dir.join(&grant.path);
            if !host.is_dir() {
                self.step_problem(
                    span,
                    "dirs",
                    format!(
                        "granted directory `{}` does not exist (resolved to {})",
                        grant.path.display(),
                        host.display()
                    ),
                );
            }
        }
        for grant in &step.grants.credentials {
            if !self.raw.credentials.contains_key(&grant.name) {
                let mut message = format!(
                    "credential `{}` is not declared in [credentials]",
                    grant.name
                );
                if let Some(close) =
                    did_you_mean(&grant.name, self.raw.credentials.keys().map(String::as_str))
                {
                    message.push_str(&format!(", did you mean `{close}`?"));
                }
                self.step_problem(span, "credentials", message);
            }
        }
        if let Some(n) = step.concurrency
            && !(1..=64).contains(&n)
        {
            self.step_problem(
                span,
                "concurrency",
                format!("concurrency {n} must be between 1 and 64"),
            );
        }
        if let Some(glob) = &step.glob
            && let Err(e) = globset::Glob::new(glob)
        {
            self.step_problem(span, "glob", format!("invalid glob `{glob}`: {e}"));
        }
        if let Some(memory) = step.limits.memory
            && !(1 << 20..=4 << 30).contains(&memory.0)
        {
            self.step_problem(
                span,
                "memory",
                format!("memory limit {memory} must be between 1MiB and 4GiB"),
            );
        }
        if let Some(timeout) = step.limits.timeout
            && timeout.0.is_zero()
        {
            self.step_problem(span, "timeout", "timeout must be more than zero");
        }
        for (what, settings) in [
            ("source_settings", &step.source_settings),
            ("parser_settings", &step.parser_settings),
        ] {
            if let Err(message) = plugin_settings(settings) {
                self.step_problem(span, what, message);
            }
        }
    }

    fn check_validate(&mut self, step: &ValidateStep, span: &Range<usize>) {
        let s = &step.schema;
        let roles = [
            &s.prediction_id,
            &s.prediction_label,
            &s.prediction_score,
            &s.actual_label,
            &s.actual_score,
        ];
        let any_role = roles.iter().any(|r| r.is_some()) || s.timestamp.is_some();
        let any_prefix =
            s.feature_prefix.is_some() || s.tag_prefix.is_some() || s.shap_prefix.is_some();
        if !any_role && !any_prefix && step.columns.is_empty() {
            self.step_problem(
                span,
                "kind",
                "the validate step maps no columns: set [steps.schema] roles or [steps.columns]",
            );
        }
        if any_role && s.prediction_id.is_none() {
            self.step_problem(
                span,
                "schema",
                "schema maps roles but no `prediction_id` column",
            );
        }
        if any_role && s.prediction_label.is_none() && s.prediction_score.is_none() {
            self.step_problem(
                span,
                "schema",
                "schema needs `prediction_label` or `prediction_score`",
            );
        }
        if let Some(ts) = &s.timestamp
            && let Err(message) = TimestampFormat::parse(ts.format())
        {
            self.step_problem(span, "timestamp", message);
        }
        for cond in &step.filter {
            let needs_value = !matches!(cond.op, FilterOp::IsNull | FilterOp::NotNull);
            match (&cond.value, needs_value) {
                (None, true) => self.step_problem(
                    span,
                    "filter",
                    format!(
                        "filter on `{}` with op {:?} needs a `value`",
                        cond.column, cond.op
                    ),
                ),
                (Some(_), false) => self.step_problem(
                    span,
                    "filter",
                    format!(
                        "filter on `{}` with op {:?} takes no `value`",
                        cond.column, cond.op
                    ),
                ),
                (Some(v), true)
                    if !matches!(
                        v,
                        toml::Value::String(_)
                            | toml::Value::Integer(_)
                            | toml::Value::Float(_)
                            | toml::Value::Boolean(_)
                    ) =>
                {
                    self.step_problem(
                        span,
                        "filter",
                        format!(
                            "filter value for `{}` must be a string, number or boolean",
                            cond.column
                        ),
                    )
                }
                _ => {}
            }
        }
    }

    fn check_package(&mut self, step: &PackageStep, span: &Range<usize>) {
        let Some(service) = self.raw.service.clone() else {
            self.step_problem(
                span,
                "kind",
                "a package step needs a [service] with its endpoints",
            );
            return;
        };
        if let Err(e) = paths::check(NameKind::Service, &service.id) {
            self.problem(0..0, e.to_string());
        }
        if let Some(v) = &step.version
            && let Err(e) = paths::check(NameKind::Version, v)
        {
            self.step_problem(span, "version", e.to_string());
        }
        if service.endpoints.is_empty() {
            self.problem(0..0, "the [service] has no endpoints");
        }
        if let Err(message) = service.auth.check(service.oauth2.as_ref()) {
            let at = self.src.text.find("auth").map(|i| i..i).unwrap_or(0..0);
            self.problem(at, format!("service `{}`: {message}", service.id));
        }
        let mut names = Vec::new();
        for e in &service.endpoints {
            if !is_identifier(e.name()) || names.contains(&e.name()) {
                self.problem(
                    0..0,
                    format!(
                        "endpoint name `{}` must be unique and use only letters, digits, `-` and `_`",
                        e.name()
                    ),
                );
            }
            names.push(e.name());
            if let EndpointSpec::Prediction { artifacts, .. } = e {
                let dir = self.src.path.parent().unwrap_or(Path::new(".")).to_owned();
                for a in artifacts {
                    if !dir.join(a).exists() {
                        self.problem(
                            0..0,
                            format!(
                                "endpoint `{}`: artifact `{}` does not exist (resolved to {})",
                                e.name(),
                                a.display(),
                                dir.join(a).display()
                            ),
                        );
                    }
                }
            }
        }
    }

    /// Reads `service_file` into `service`, artifact paths made absolute.
    fn load_service_file(&mut self) {
        let Some(file) = self.raw.service_file.clone() else {
            return;
        };
        let at = self
            .src
            .text
            .find("service_file")
            .map(|i| i..i)
            .unwrap_or(0..0);
        if self.raw.service.is_some() {
            self.problem(at, "give [service] or service_file, not both");
            return;
        }
        let path = self.src.path.parent().unwrap_or(Path::new(".")).join(&file);
        let loaded = std::fs::read_to_string(&path)
            .map_err(|e| format!("service_file {}: {e}", path.display()))
            .and_then(|text| {
                toml::from_str::<ServiceSpec>(&text).map_err(|e| {
                    let line = e
                        .span()
                        .map(|s| text[..s.start].lines().count().max(1))
                        .unwrap_or(1);
                    format!("{}:{line}: {}", path.display(), e.message().trim())
                })
            });
        match loaded {
            Ok(mut service) => {
                let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
                for endpoint in &mut service.endpoints {
                    if let EndpointSpec::Prediction { artifacts, .. } = endpoint {
                        for a in artifacts.iter_mut() {
                            *a = dir.join(&*a);
                        }
                    }
                }
                self.raw.service = Some(service);
            }
            Err(message) => self.problem(at, message),
        }
    }

    /// Decodes `[infras.*]`, each with the declarations of the credentials it names.
    fn decode_infras(&mut self) -> BTreeMap<String, (InfraSpec, toml::Table)> {
        let raw_credentials = toml::from_str::<toml::Table>(self.src.text)
            .ok()
            .and_then(|doc| doc.get("credentials").and_then(|c| c.as_table()).cloned());
        let mut infras = BTreeMap::new();
        for (name, table) in std::mem::take(&mut self.raw.infras) {
            let at = self
                .src
                .text
                .find(&format!("[infras.{name}"))
                .map(|i| i..i)
                .unwrap_or(0..0);
            if let Err(e) = paths::check(NameKind::Infra, &name) {
                self.problem(at.clone(), e.to_string());
            }
            match InfraSpec::decode(&name, &table, raw_credentials.as_ref()) {
                Ok(decoded) => {
                    infras.insert(name, decoded);
                }
                Err(message) => self.problem(at, message),
            }
        }
        infras
    }

    fn check_deploy(&mut self, step: &DeployStep, span: &Range<usize>) {
        if let Some(id) = &step.deployment
            && !is_identifier(id)
        {
            self.step_problem(
                span,
                "deployment",
                format!("deployment id `{id}` must use only letters, digits, `-` and `_`"),
            );
        }
        if let Err(e) = paths::check(NameKind::Infra, &step.infra) {
            self.step_problem(span, "infra", e.to_string());
        }
    }

    fn check_ingest(&mut self, step: &IngestStep, span: &Range<usize>) {
        if let Err(e) = paths::check(NameKind::Table, &step.table) {
            self.step_problem(span, "table", e.to_string());
        }
    }
}

/// Letters, digits, `-` and `_`: names of workflows, steps, tables, infras, deployments.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests;
