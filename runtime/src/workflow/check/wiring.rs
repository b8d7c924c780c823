//! Step wiring: names unique, inputs earlier steps of a kind that may feed this one, one step
//! per kind, and nothing left unconsumed. Linear in the number of steps.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::{Checker, DecodedStep, SUGGESTIONS, is_identifier};
use crate::workflow::*;

impl Checker<'_> {
    pub(super) fn check_wiring(&mut self, steps: &[(DecodedStep, Range<usize>)]) {
        // Maps and sets, not lists: a file with thousands of steps is checked in linear time.
        let mut seen: HashMap<&str, StepKind> = HashMap::new();
        let mut consumed: HashSet<&str> = HashSet::new();
        for (step, span) in steps {
            let name = step.name();
            if !is_identifier(name) {
                self.step_problem(
                    span,
                    "name",
                    format!("step name `{name}` must use only letters, digits, `-` and `_`"),
                );
            }
            if seen.contains_key(name) {
                self.step_problem(span, "name", format!("two steps are named `{name}`"));
            }
            if let Some(input) = step.input() {
                match seen.get(input) {
                    None => {
                        let mut message = format!("input `{input}` is not an earlier step");
                        // Suggestions compare with every step: only for the first few problems.
                        if self.problems.len() < SUGGESTIONS
                            && let Some(close) = did_you_mean(input, seen.keys().copied())
                        {
                            message.push_str(&format!(", did you mean `{close}`?"));
                        }
                        self.step_problem(span, "input", message);
                    }
                    Some(input_kind) => {
                        let ok = match step.kind() {
                            StepKind::Validate => *input_kind == StepKind::Import,
                            StepKind::Ingest => {
                                matches!(input_kind, StepKind::Import | StepKind::Validate)
                            }
                            StepKind::Package => *input_kind == StepKind::Ingest,
                            StepKind::Deploy => *input_kind == StepKind::Package,
                            StepKind::Import => true,
                        };
                        if !ok {
                            self.step_problem(
                                span,
                                "input",
                                format!("a {:?} step cannot take its input from the {:?} step `{input}`", step.kind(), input_kind)
                                    .to_lowercase(),
                            );
                        }
                        consumed.insert(input);
                    }
                }
            }
            seen.entry(name).or_insert(step.kind());
        }
        for kind in [
            StepKind::Import,
            StepKind::Validate,
            StepKind::Ingest,
            StepKind::Package,
            StepKind::Deploy,
        ] {
            let count = steps.iter().filter(|(s, _)| s.kind() == kind).count();
            let kind_name = format!("{kind:?}").to_lowercase();
            if count > 1 {
                let span = steps
                    .iter()
                    .filter(|(s, _)| s.kind() == kind)
                    .nth(1)
                    .map(|(_, s)| s.clone())
                    .unwrap_or(0..0);
                self.problem(
                    span,
                    format!("only one {kind_name} step is supported per workflow"),
                );
            }
            let optional = matches!(
                kind,
                StepKind::Validate | StepKind::Package | StepKind::Deploy
            );
            if count == 0 && !optional && !steps.is_empty() {
                self.problem(0..0, format!("the workflow needs an {kind_name} step"));
            }
        }
        for (step, span) in steps {
            let last = matches!(
                step.kind(),
                StepKind::Ingest | StepKind::Package | StepKind::Deploy
            );
            if !last && !consumed.contains(step.name()) {
                self.step_problem(
                    span,
                    "name",
                    format!("nothing takes step `{}` as its input", step.name()),
                );
            }
        }
    }
}
