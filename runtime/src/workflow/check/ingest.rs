//! The ingest step: its table name and commit bounds.

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
    }
}
