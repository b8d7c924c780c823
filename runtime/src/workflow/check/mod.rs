//! The checks that need nothing but the file itself: each step decoded by its `kind`, the
//! wiring between steps, then each step's own rules (one file per kind). Every problem is
//! collected, each at its place in the file, rather than stopping at the first.

mod credentials;
mod deploy;
mod import;
mod ingest;
mod package;
mod service;
mod validate;
mod wiring;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;

pub use credentials::{infra_grant_names, ungranted_credentials};

use super::problem::{Source, explain_unknown_field};
use super::*;
use crate::paths::{self, NameKind};

/// Problems that get a "did you mean" (each compares with every name).
const SUGGESTIONS: usize = 20;

/// Collects every problem rather than stopping at the first, as `ferry validate` should.
pub(super) struct Checker<'a> {
    src: Source<'a>,
    raw: RawWorkflow,
    problems: Vec<Problem>,
}

enum DecodedStep {
    Import(ImportStep),
    Validate(ValidateStep),
    Ingest(IngestStep),
    Package(PackageStep),
    Deploy(DeployStep),
}

impl DecodedStep {
    fn name(&self) -> &str {
        match self {
            DecodedStep::Import(s) => &s.name,
            DecodedStep::Validate(s) => &s.name,
            DecodedStep::Ingest(s) => &s.name,
            DecodedStep::Package(s) => &s.name,
            DecodedStep::Deploy(s) => &s.name,
        }
    }

    fn input(&self) -> Option<&str> {
        match self {
            DecodedStep::Import(_) => None,
            DecodedStep::Validate(s) => Some(&s.input),
            DecodedStep::Ingest(s) => Some(&s.input),
            DecodedStep::Package(s) => Some(&s.input),
            DecodedStep::Deploy(s) => Some(&s.input),
        }
    }

    fn kind(&self) -> StepKind {
        match self {
            DecodedStep::Import(_) => StepKind::Import,
            DecodedStep::Validate(_) => StepKind::Validate,
            DecodedStep::Ingest(_) => StepKind::Ingest,
            DecodedStep::Package(_) => StepKind::Package,
            DecodedStep::Deploy(_) => StepKind::Deploy,
        }
    }
}

impl<'a> Checker<'a> {
    pub(super) fn new(src: Source<'a>, raw: RawWorkflow) -> Self {
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

    pub(super) fn check(mut self) -> Result<Workflow, WorkflowError> {
        self.load_service_file();
        let steps = std::mem::take(&mut self.raw.steps);
        if steps.is_empty() {
            self.problem(
                0..0,
                "the workflow has no steps: add [[steps]] tables (import, validate, ingest)",
            );
        }
        let mut decoded: Vec<(DecodedStep, Range<usize>)> = Vec::new();
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
                DecodedStep::Import(s) => self.check_import(s, span),
                DecodedStep::Validate(s) => self.check_validate(s, span),
                DecodedStep::Ingest(s) => self.check_ingest(s, span),
                DecodedStep::Package(s) => self.check_package(s, span),
                DecodedStep::Deploy(s) => self.check_deploy(s, span),
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
        let mut plugins = BTreeMap::new();
        let mut plugin_digests = BTreeMap::new();
        for (name, plugin) in self.raw.plugins.clone() {
            let path = match plugin {
                RawPlugin::Path(path) => path,
                RawPlugin::Pinned(PinnedPlugin { path, sha256 }) => {
                    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                        let at = self.src.top_key_span(&name).unwrap_or(0..0);
                        self.problem(
                            at,
                            format!("plugin `{name}`: sha256 must be 64 hex digits (`ferry plugin inspect FILE` prints it)"),
                        );
                    }
                    plugin_digests.insert(name.clone(), sha256.to_ascii_lowercase());
                    path
                }
            };
            plugins.insert(name, dir.join(path));
        }
        let tests = self.check_tests(&dir);

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
                DecodedStep::Import(s) => import = Some(s),
                DecodedStep::Validate(s) => validate = Some(s),
                DecodedStep::Ingest(s) => ingest = Some(s),
                DecodedStep::Package(s) => package = Some(s),
                DecodedStep::Deploy(s) => deploy = Some(s),
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
        if let (Some(validate), Some(ingest)) = (&validate, &ingest)
            && validate.rollup.is_some()
            && ingest.mode != IngestMode::Append
        {
            let span = step_spans.get(&ingest.name).cloned().unwrap_or(0..0);
            let at = self.src.key_span(&span, "mode").unwrap_or(span);
            return Err(WorkflowError::Invalid(vec![self.src.problem(
                at,
                "a rollup combines each object's groups with the table's, which needs \
                 mode = \"append\" (the default)",
            )]));
        }
        if let (Some(validate), Some(ingest)) = (&validate, &ingest)
            && !validate.mappings.is_empty()
        {
            // With mappings the stored columns are known: a key must be one of them.
            let mapped: Vec<&str> = validate
                .mappings
                .iter()
                .map(|m| m.column.as_str())
                .collect();
            let span = step_spans.get(&ingest.name).cloned().unwrap_or(0..0);
            let at = self.src.key_span(&span, "key").unwrap_or(span);
            let problems: Vec<Problem> = ingest
                .key
                .iter()
                .filter(|k| !mapped.contains(&k.as_str()))
                .map(|k| {
                    let hint = did_you_mean(k, mapped.iter().copied())
                        .map(|c| format!(", did you mean `{c}`?"))
                        .unwrap_or_default();
                    self.src.problem(
                        at.clone(),
                        format!("key column `{k}` is not one of the mappings' columns{hint}"),
                    )
                })
                .collect();
            if !problems.is_empty() {
                return Err(WorkflowError::Invalid(problems));
            }
        }
        Ok(Workflow {
            name,
            description: self.raw.description.clone(),
            path: self.src.path.to_owned(),
            text: self.src.text.to_owned(),
            plugins,
            plugin_digests,
            tests,
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

    /// `[[tests]]`: names unique, exactly one of `text` and `file`, something to expect.
    fn check_tests(&mut self, dir: &Path) -> Vec<TestCase> {
        let raw = std::mem::take(&mut self.raw.tests);
        let mut names = std::collections::BTreeSet::new();
        let mut tests = Vec::new();
        for spanned in raw {
            let span = spanned.span();
            let case = spanned.into_inner();
            if !names.insert(case.name.clone()) {
                self.problem(span.clone(), format!("two tests are named `{}`", case.name));
            }
            let input = match (case.input.text, case.input.file) {
                (Some(text), None) => TestInput::Text(text),
                (None, Some(file)) => TestInput::File(dir.join(file)),
                _ => {
                    self.problem(
                        span,
                        format!(
                            "test `{}`: give the input as exactly one of `text` or `file`",
                            case.name
                        ),
                    );
                    continue;
                }
            };
            let e = &case.expect;
            if e.rows.is_none() && e.count.is_none() && e.diagnostics.is_none() && e.error.is_none()
            {
                self.problem(
                    span,
                    format!("test `{}` expects nothing: give expect.rows, expect.count, expect.diagnostics or expect.error", case.name),
                );
                continue;
            }
            let key = case.input.key.unwrap_or_else(|| match &input {
                TestInput::File(f) => f
                    .file_name()
                    .map_or("input".into(), |n| n.to_string_lossy().into_owned()),
                TestInput::Text(_) => "input".into(),
            });
            tests.push(TestCase {
                name: case.name,
                key,
                input,
                expect: case.expect,
            });
        }
        tests
    }

    fn decode_step(
        &mut self,
        table: toml::Table,
        span: &Range<usize>,
        index: usize,
    ) -> Option<DecodedStep> {
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
            "import" => ImportStep::deserialize(value).map(DecodedStep::Import),
            "validate" => ValidateStep::deserialize(value).map(DecodedStep::Validate),
            "ingest" => IngestStep::deserialize(value).map(DecodedStep::Ingest),
            "package" => PackageStep::deserialize(value).map(DecodedStep::Package),
            "deploy" => DeployStep::deserialize(value).map(DecodedStep::Deploy),
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
                        // DecodedStep again from the text, the error has the value's span; else
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
}

/// Letters, digits, `-` and `_`: names of workflows, steps, tables, infras, deployments.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
