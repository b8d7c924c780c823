//! The ingest step: its table name, commit bounds and merge rule.

use std::ops::Range;

use super::Checker;
use crate::paths::{self, NameKind};
use crate::workflow::*;

impl Checker<'_> {
    pub(super) fn check_ingest(&mut self, step: &IngestStep, span: &Range<usize>) {
        if let Err(e) = paths::check(NameKind::Table, &step.table) {
            self.step_problem(span, "table", e.to_string());
        }
        let commit = &step.commit;
        if commit.max_objects == 0 || commit.max_rows == 0 || commit.max_bytes.0 == 0 {
            self.step_problem(
                span,
                "commit",
                "max_objects, max_rows and max_bytes must be at least 1",
            );
        }
        self.check_merge(step, span);
    }

    fn check_merge(&mut self, step: &IngestStep, span: &Range<usize>) {
        if step.mode != IngestMode::Merge {
            for (key, given) in [
                ("key", !step.key.is_empty()),
                ("on_match", step.on_match.is_some()),
                ("on_duplicate_key", step.on_duplicate_key.is_some()),
            ] {
                if given {
                    self.step_problem(
                        span,
                        key,
                        format!("`{key}` is for mode = \"merge\"; this step appends or replaces"),
                    );
                }
            }
            return;
        }
        if step.key.is_empty() {
            self.step_problem(
                span,
                "mode",
                "mode = \"merge\" needs `key`, the columns that identify a row \
                 (key = [\"prediction_id\"])",
            );
        }
        let mut seen = std::collections::HashSet::new();
        for column in &step.key {
            if !seen.insert(column) {
                self.step_problem(
                    span,
                    "key",
                    format!("key column `{column}` is listed twice"),
                );
            }
        }
    }
}
