//! The server's workflows: the `*.toml` files of one directory, each registered under its file
//! stem. `PUT` writes a file there (after it validates), `DELETE` removes it; a workflow added
//! to the directory by hand is picked up on the next request.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::http::ApiError;
use crate::paths::{self, NameKind};
use crate::workflow::Workflow;

pub struct WorkflowDir {
    dir: PathBuf,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowSummary {
    pub name: String,
    pub description: Option<String>,
    pub table: Option<String>,
    pub source: Option<String>,
    pub parser: Option<String>,
    pub valid: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl WorkflowDir {
    pub fn new(dir: PathBuf) -> std::io::Result<WorkflowDir> {
        std::fs::create_dir_all(&dir)?;
        Ok(WorkflowDir { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf, ApiError> {
        paths::child(&self.dir, NameKind::Workflow, name, ".toml")
            .map_err(|e| ApiError::bad_request("invalid_name", e.to_string()))
    }

    pub fn names(&self) -> Vec<String> {
        crate::workflow::registered(&self.dir)
    }

    /// The workflow's file text.
    pub fn text(&self, name: &str) -> Result<String, ApiError> {
        let path = self.path(name)?;
        std::fs::read_to_string(&path)
            .map_err(|_| ApiError::not_found(format!("no workflow `{name}`")))
    }

    /// Parses `text` as workflow `name` would be (its relative paths against the directory).
    pub fn parse(&self, name: &str, text: &str) -> Result<Workflow, ApiError> {
        let workflow = Workflow::parse(&self.path(name)?, text)
            .map_err(|e| ApiError::bad_request("invalid_workflow", e.to_string()))?;
        if workflow.name != name {
            return Err(ApiError::bad_request(
                "invalid_workflow",
                format!(
                    "the file names the workflow `{}`, but it is registered as `{name}`: drop `name` or make them equal",
                    workflow.name
                ),
            ));
        }
        Ok(workflow)
    }

    pub fn load(&self, name: &str) -> Result<Workflow, ApiError> {
        self.parse(name, &self.text(name)?)
    }

    /// Workflow `name` with its `${…}` filled in from `given`, else the project's `variables`.
    pub fn load_with(
        &self,
        name: &str,
        project: &BTreeMap<String, String>,
        given: &BTreeMap<String, String>,
    ) -> Result<Workflow, ApiError> {
        let text =
            crate::workflow::substitute(&self.path(name)?, &self.text(name)?, project, given)
                .map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
        self.parse(name, &text)
    }

    /// Writes the workflow file (atomically: readers see the old or the new text).
    pub fn put(&self, name: &str, text: &str) -> Result<bool, ApiError> {
        let path = self.path(name)?;
        let existed = path.exists();
        super::write_atomically(&path, text.as_bytes()).map_err(ApiError::internal)?;
        Ok(existed)
    }

    pub fn delete(&self, name: &str) -> Result<(), ApiError> {
        let path = self.path(name)?;
        std::fs::remove_file(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ApiError::not_found(format!("no workflow `{name}`")),
            _ => ApiError::internal(e),
        })
    }

    /// What a listing shows of one workflow; problems come from the file alone.
    pub fn summary(&self, name: &str) -> WorkflowSummary {
        match self.load(name) {
            Ok(w) => WorkflowSummary {
                name: name.to_owned(),
                description: w.description.clone(),
                table: Some(w.ingest.table.clone()),
                source: Some(w.import.source.clone()),
                parser: Some(w.import.parser.clone()),
                valid: true,
                problems: Vec::new(),
            },
            Err(e) => WorkflowSummary {
                name: name.to_owned(),
                description: None,
                table: None,
                source: None,
                parser: None,
                valid: false,
                problems: vec![e.message],
            },
        }
    }
}
