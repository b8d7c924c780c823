//! The validate step: roles that make sense together, timestamp formats, filter conditions.

use std::ops::Range;

use super::Checker;
use crate::workflow::*;

impl Checker<'_> {
    pub(super) fn check_validate(&mut self, step: &ValidateStep, span: &Range<usize>) {
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
        let embeddings = !s.embedding_features.is_empty();
        if let Some(sql) = &step.sql {
            if any_role || any_prefix || embeddings || !step.columns.is_empty() {
                self.step_problem(
                    span,
                    "sql",
                    "`sql` makes every stored column: drop [steps.schema] and [steps.columns] \
                     from this step",
                );
            }
            if !step.mappings.is_empty() {
                self.step_problem(
                    span,
                    "sql",
                    "`sql` and `mappings` are two forms of the same thing: keep one",
                );
            }
            if step.input_schema.is_empty() {
                self.step_problem(
                    span,
                    "sql",
                    "`sql` needs `input_schema`: the input columns it reads and their types",
                );
            }
            if sql.trim().is_empty() {
                self.step_problem(span, "sql", "`sql` is empty: write `SELECT … FROM input`");
            }
        } else if !step.mappings.is_empty() {
            self.check_mappings(step, span, any_role || any_prefix || embeddings);
        } else {
            if !step.input_schema.is_empty() {
                self.step_problem(
                    span,
                    "input_schema",
                    "`input_schema` types the columns `mappings` read, and this step has no \
                     mappings",
                );
            }
            if step.rollup.is_some() {
                self.step_problem(
                    span,
                    "rollup",
                    "a rollup aggregates `mappings`, and this step has none",
                );
            }
        }
        if !any_role
            && !any_prefix
            && step.columns.is_empty()
            && step.mappings.is_empty()
            && step.sql.is_none()
        {
            self.step_problem(
                span,
                "kind",
                "the validate step maps no columns: set [steps.schema] roles, [steps.columns] \
                 or `mappings`",
            );
        }
        if any_role && s.prediction_id.is_none() {
            self.step_problem(
                span,
                "schema",
                "schema maps roles but no `prediction_id` column",
            );
        }
        // A file of delayed actuals carries actuals alone, merged onto its predictions.
        let predicted = s.prediction_label.is_some() || s.prediction_score.is_some();
        let actual = s.actual_label.is_some() || s.actual_score.is_some();
        if any_role && !predicted && !actual {
            self.step_problem(
                span,
                "schema",
                "schema needs `prediction_label` or `prediction_score` (or, for a file of \
                 delayed actuals, `actual_label` or `actual_score`)",
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

    /// Mappings make the whole table: they do not mix with roles, prefixes or typed columns,
    /// and need the input they read typed. The expressions themselves are type-checked when
    /// the mapping is compiled (`ferry validate` does that too), against `input_schema`.
    fn check_mappings(&mut self, step: &ValidateStep, span: &Range<usize>, roles: bool) {
        if roles || !step.columns.is_empty() {
            self.step_problem(
                span,
                "mappings",
                "`mappings` make every stored column: drop [steps.schema] and [steps.columns] \
                 from this step, or write them as mappings",
            );
        }
        if step.input_schema.is_empty() {
            self.step_problem(
                span,
                "mappings",
                "`mappings` need `input_schema`: the input columns they read and their types, \
                 as in `input_schema = { timestamp = \"string\", session_length = \"int64\" }`",
            );
        }
        let mut seen = std::collections::HashSet::new();
        for m in &step.mappings {
            if m.column.trim().is_empty() {
                self.step_problem(span, "mappings", "a mapping needs a `column` name");
            } else if !seen.insert(m.column.as_str()) {
                self.step_problem(
                    span,
                    "mappings",
                    format!("two mappings make column `{}`", m.column),
                );
            }
            if m.aggregation && step.rollup.is_none() {
                self.step_problem(
                    span,
                    "mappings",
                    format!(
                        "mapping `{}` is an aggregation, which needs a rollup: add \
                         `rollup = {{ granularity = \"minute\" }}` to this step",
                        m.column
                    ),
                );
            }
        }
        if step.rollup.is_some() {
            if !step.mappings.iter().any(|m| m.aggregation) {
                self.step_problem(
                    span,
                    "rollup",
                    "a rollup needs at least one aggregation mapping \
                     (`{ column = \"__count\", expression = \"COUNT(*)\", aggregation = true }`)",
                );
            }
            match step.mappings.iter().find(|m| m.column == "__time") {
                None => self.step_problem(
                    span,
                    "rollup",
                    "a rollup groups rows by time: it needs a `__time` mapping",
                ),
                Some(m) if m.aggregation => self.step_problem(
                    span,
                    "rollup",
                    "`__time` is what a rollup groups by; it cannot be an aggregation",
                ),
                Some(_) => {}
            }
        }
    }
}
