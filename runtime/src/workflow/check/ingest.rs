//! The ingest step: its table name.

use std::ops::Range;

use super::Checker;
use crate::paths::{self, NameKind};
use crate::workflow::*;

impl Checker<'_> {
    pub(super) fn check_ingest(&mut self, step: &IngestStep, span: &Range<usize>) {
        if let Err(e) = paths::check(NameKind::Table, &step.table) {
            self.step_problem(span, "table", e.to_string());
        }
    }
}
