//! `${name}` in a workflow's text, filled in before it is parsed: from the values a run or
//! trigger gives, else the project's variables (`ferry variables set`). `$${` stands for a
//! literal `${`. Values land inside TOML strings, so one that could close the string is
//! refused rather than let it rewrite the workflow.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Location, Problem, WorkflowError};

/// Why a workflow's variables could not be filled in.
#[derive(Debug, thiserror::Error)]
pub enum VariableError {
    #[error(
        "{at}: the workflow uses ${{{name}}}, which no variable sets: set it with `ferry variables set {name} VALUE`, or give it to this run"
    )]
    Missing { at: Location, name: String },
    #[error(
        "{at}: variable `{name}` may not contain quotes, backslashes or newlines: its value goes inside a TOML string"
    )]
    Invalid { at: Location, name: String },
    #[error("{at}: variable `{name}` is given but the workflow never uses ${{{name}}}")]
    Unused { at: Location, name: String },
}

impl VariableError {
    /// The error's code, for the HTTP API.
    pub fn code(&self) -> &'static str {
        match self {
            VariableError::Missing { .. } => "missing_variable",
            VariableError::Invalid { .. } => "invalid_variable",
            VariableError::Unused { .. } => "unknown_variable",
        }
    }
}

impl From<VariableError> for WorkflowError {
    fn from(e: VariableError) -> WorkflowError {
        let (VariableError::Missing { at, .. }
        | VariableError::Invalid { at, .. }
        | VariableError::Unused { at, .. }) = &e;
        let whole = e.to_string();
        let message = whole
            .strip_prefix(&format!("{at}: "))
            .unwrap_or(&whole)
            .to_owned();
        WorkflowError::Invalid(vec![Problem {
            location: at.clone(),
            message,
        }])
    }
}

/// `text` (read from `path`) with each `${name}` replaced by `given[name]`, else
/// `project[name]`. Every name in `given` must be used: a value meant for a workflow that
/// does not take it is most likely a typo. Project variables are shared by all workflows, so
/// an unused one is fine.
pub fn substitute(
    path: &Path,
    text: &str,
    project: &BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
) -> Result<String, VariableError> {
    let mut out = String::with_capacity(text.len());
    let mut used = BTreeSet::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("${") {
        let start = rest + found;
        if text[..start].ends_with('$') {
            // `$${` is a literal `${`.
            out.push_str(&text[rest..start - 1]);
            out.push_str("${");
            rest = start + 2;
            continue;
        }
        out.push_str(&text[rest..start]);
        let Some(len) = text[start + 2..].find('}') else {
            out.push_str(&text[start..]);
            rest = text.len();
            break;
        };
        let name = &text[start + 2..start + 2 + len];
        let at = || Location::at(path, text, start);
        let value = given
            .get(name)
            .or_else(|| project.get(name))
            .ok_or_else(|| VariableError::Missing {
                at: at(),
                name: name.to_owned(),
            })?;
        if value.contains(['"', '\\', '\n', '\r']) {
            return Err(VariableError::Invalid {
                at: at(),
                name: name.to_owned(),
            });
        }
        used.insert(name);
        out.push_str(value);
        rest = start + 2 + len + 1;
    }
    out.push_str(&text[rest..]);
    if let Some(unused) = given.keys().find(|k| !used.contains(k.as_str())) {
        return Err(VariableError::Unused {
            at: Location::at(path, text, 0),
            name: unused.clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn given_values_win_over_the_projects_and_each_must_be_used() {
        let path = Path::new("wf.toml");
        let project = vars(&[("day", "2026-11-01"), ("bucket", "raw")]);
        let fill =
            |text: &str, given: &[(&str, &str)]| substitute(path, text, &project, &vars(given));
        assert_eq!(
            fill("prefix = \"${bucket}/${day}/\"", &[("day", "2026-11-26")]).unwrap(),
            "prefix = \"raw/2026-11-26/\""
        );
        assert_eq!(fill("a = \"$${day}\"", &[]).unwrap(), "a = \"${day}\"");
        assert_eq!(fill("no vars", &[]).unwrap(), "no vars");
        assert_eq!(fill("open ${day", &[]).unwrap(), "open ${day");

        let missing = fill("a = 1\nb = \"${other}\"", &[]).unwrap_err();
        assert_eq!(missing.code(), "missing_variable");
        assert!(missing.to_string().starts_with("wf.toml:2:6"), "{missing}");
        assert!(missing.to_string().contains("ferry variables set other"));
        let unused = fill("plain", &[("dya", "x")]).unwrap_err();
        assert_eq!(unused.code(), "unknown_variable");
        assert!(unused.to_string().contains("`dya`"));
        let quoted = fill("${day}", &[("day", "x\"y")]).unwrap_err();
        assert_eq!(quoted.code(), "invalid_variable");

        let problem = WorkflowError::from(missing);
        assert_eq!(problem.problems()[0].location.line, 2);
        assert!(
            problem.problems()[0]
                .message
                .starts_with("the workflow uses ${other}")
        );
    }
}
