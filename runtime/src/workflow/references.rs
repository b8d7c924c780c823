//! What a workflow file names outside itself — its custom plugin components, its service file,
//! the stored infras its deploy steps use — read from the text alone, before `${…}` is filled
//! in, so an export can carry a workflow whose variables a trigger gives later.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::model::{RawPlugin, RawWorkflow, StepKind};
use super::problem::Source;
use super::{FileKind, WorkflowError};

/// The files and stored objects a workflow needs, as its text names them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct References {
    /// Custom plugins by name, their paths as written (relative to the file's directory).
    pub plugins: BTreeMap<String, PathBuf>,
    /// The `service_file`, as written.
    pub service_file: Option<PathBuf>,
    /// Infras deploy steps name that the file does not declare itself (stored ones).
    pub stored_infras: BTreeSet<String>,
}

/// The references of workflow file `path` with `text`; a text that is not a workflow is a
/// positioned error, as loading it would be.
pub fn references(path: &Path, text: &str) -> Result<References, WorkflowError> {
    let src = Source::new(path, text);
    if !matches!(FileKind::of(text), Some(FileKind::Workflow)) {
        return Err(WorkflowError::Invalid(vec![src.problem(
            0..0,
            "not a workflow file (its `kind` says otherwise, or it is not TOML)".to_owned(),
        )]));
    }
    let raw: RawWorkflow = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        WorkflowError::Invalid(vec![src.problem(span, e.message().trim().to_owned())])
    })?;
    let plugins = raw
        .plugins
        .into_iter()
        .map(|(name, p)| {
            let path = match p {
                RawPlugin::Path(path) => path,
                RawPlugin::Pinned(pinned) => pinned.path,
            };
            (name, path)
        })
        .collect();
    let stored_infras = raw
        .steps
        .iter()
        .map(|s| s.get_ref())
        .filter(|s| {
            s.get("kind")
                .and_then(|k| k.clone().try_into::<StepKind>().ok())
                == Some(StepKind::Deploy)
        })
        .filter_map(|s| s.get("infra")?.as_str().map(str::to_owned))
        .filter(|infra| !raw.infras.contains_key(infra))
        .collect();
    Ok(References {
        plugins,
        service_file: raw.service_file,
        stored_infras,
    })
}

/// The workflows of directory `dir` by name (file stem), sorted: `*.toml` files with a valid
/// workflow name that are not infra or service files (those may sit beside the workflows that
/// use them).
pub fn registered(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(str::to_owned))?
        })
        .filter(|n| crate::paths::check(crate::paths::NameKind::Workflow, n).is_ok())
        .filter(|n| {
            let text = std::fs::read_to_string(dir.join(format!("{n}.toml")));
            !matches!(
                text.ok().and_then(|t| FileKind::of(&t)),
                Some(FileKind::Infras | FileKind::Service)
            )
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_service_file_and_stored_infras_are_read_before_variables_are_filled() {
        let text = r#"
name = "churn"
service_file = "churn.service.toml"
[plugins]
logfmt = "plugins/parser_logfmt.wasm"
pinned = { path = "p.wasm", sha256 = "00" }
[infras.own]
type = "static"
nodes = []
[[steps]]
name = "import"
kind = "import"
prefix = "${day}/"
[[steps]]
name = "deploy"
kind = "deploy"
input = "package"
infra = "prod"
[[steps]]
name = "deploy-own"
kind = "deploy"
input = "package"
infra = "own"
"#;
        let r = references(Path::new("w.toml"), text).unwrap();
        assert_eq!(
            r.plugins["logfmt"],
            PathBuf::from("plugins/parser_logfmt.wasm")
        );
        assert_eq!(r.plugins["pinned"], PathBuf::from("p.wasm"));
        assert_eq!(r.service_file, Some(PathBuf::from("churn.service.toml")));
        assert_eq!(r.stored_infras, BTreeSet::from(["prod".to_owned()]));
        let e = references(Path::new("i.toml"), "kind = \"infras\"\n").unwrap_err();
        assert!(e.to_string().contains("not a workflow"), "{e}");
    }
}
