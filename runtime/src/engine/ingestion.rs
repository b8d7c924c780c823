//! How a job ingests, as Polaris shows it on the job and on a dry run.

use crate::store::Job;
use crate::workflow::{ColumnMapping, Workflow};

/// How a job ingests, as Polaris lists it on the job: its `ingestionMode` and the `mappings`
/// in effect, from the workflow the job started with (a later edit of the file changes
/// neither).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingestion {
    /// `append`, `replace` or `merge`.
    pub ingestion_mode: String,
    /// A merge's key columns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merge_key: Vec<String>,
    /// The validate step's mappings, when it has any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<ColumnMapping>,
    /// The validate step's `sql` form of its mappings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
}

impl Ingestion {
    /// Read from a job's workflow text; `None` for a record whose text no longer parses.
    pub fn of(job: &Job) -> Option<Self> {
        let workflow =
            Workflow::parse(std::path::Path::new(&job.workflow_path), &job.workflow_text).ok()?;
        Some(Self::of_workflow(&workflow))
    }

    /// A workflow's, before any job ran it (what a dry run shows).
    pub fn of_workflow(workflow: &Workflow) -> Self {
        Ingestion {
            ingestion_mode: format!("{:?}", workflow.ingest.mode).to_lowercase(),
            merge_key: workflow
                .ingest
                .merge()
                .map(|rule| rule.key)
                .unwrap_or_default(),
            mappings: workflow
                .validate
                .as_ref()
                .map(|v| v.mappings.clone())
                .unwrap_or_default(),
            sql: workflow.validate.as_ref().and_then(|v| v.sql.clone()),
        }
    }

    /// Adds the fields to a job's JSON object.
    pub fn add_to(&self, value: &mut serde_json::Value) {
        if let (Some(map), Ok(serde_json::Value::Object(fields))) =
            (value.as_object_mut(), serde_json::to_value(self))
        {
            map.extend(fields);
        }
    }
}
