//! How a job ends: its execution status and health from what happened to its files.

use crate::store::{ErrorInfo, ExecutionStatus, Health, HealthStatus, Job};

/// What stopped a job early, if anything.
#[derive(Debug, Clone)]
pub enum Stop {
    Completed,
    Canceled,
    Failed(ErrorInfo),
}

pub fn decide(job: &Job, stop: &Stop) -> (ExecutionStatus, Health, Option<ErrorInfo>) {
    let m = &job.metrics;
    let f = &job.files;
    let mut messages = Vec::new();
    if m.num_rows_skipped_by_error > 0 {
        messages.push(format!(
            "{} rows skipped by error",
            m.num_rows_skipped_by_error
        ));
    }
    if m.num_rows_processed_with_warning > 0 {
        messages.push(format!(
            "{} rows stored with warnings",
            m.num_rows_processed_with_warning
        ));
    }
    if f.failed > 0 {
        messages.push(format!("{} of {} files failed", f.failed, f.total));
    }
    let warn = !messages.is_empty();
    let health = |status| Health {
        status,
        messages: messages.clone(),
    };
    match stop {
        Stop::Canceled => {
            let mut h = health(if warn {
                HealthStatus::Warn
            } else {
                HealthStatus::Ok
            });
            h.messages.push("canceled on request".into());
            (ExecutionStatus::Canceled, h, None)
        }
        Stop::Failed(reason) => {
            let mut h = health(HealthStatus::Error);
            h.messages.push(reason.message.clone());
            (ExecutionStatus::Failed, h, Some(reason.clone()))
        }
        Stop::Completed if f.total > 0 && f.failed == f.total => {
            let reason = ErrorInfo {
                code: "all_files_failed".into(),
                message: format!("all {} files failed", f.total),
                row: None,
            };
            (
                ExecutionStatus::Failed,
                health(HealthStatus::Error),
                Some(reason),
            )
        }
        Stop::Completed if m.num_rows_persisted == 0 => {
            let mut h = health(HealthStatus::Warn);
            h.messages.push(match (f.total, job.already_imported) {
                (0, 0) => "no objects matched the source's prefix and glob".into(),
                (0, n) => {
                    format!("{n} objects already imported by earlier jobs; nothing new to import")
                }
                _ => "no rows were ingested".into(),
            });
            (ExecutionStatus::NoRowsIngested, h, None)
        }
        Stop::Completed if warn => (
            ExecutionStatus::SuccessWithWarning,
            health(HealthStatus::Warn),
            None,
        ),
        Stop::Completed => (ExecutionStatus::Success, health(HealthStatus::Ok), None),
    }
}
