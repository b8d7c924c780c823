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
        if !any_role && !any_prefix && step.columns.is_empty() {
            self.step_problem(
                span,
                "kind",
                "the validate step maps no columns: set [steps.schema] roles or [steps.columns]",
            );
        }
        if any_role && s.prediction_id.is_none() {
            self.step_problem(
                span,
                "schema",
                "schema maps roles but no `prediction_id` column",
            );
        }
        if any_role && s.prediction_label.is_none() && s.prediction_score.is_none() {
            self.step_problem(
                span,
                "schema",
                "schema needs `prediction_label` or `prediction_score`",
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
}
