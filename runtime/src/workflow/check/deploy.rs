//! `[infras.*]` declared in the file and the deploy step that names one.

use std::collections::BTreeMap;
use std::ops::Range;

use super::{Checker, is_identifier};
use crate::paths::{self, NameKind};
use crate::workflow::*;

impl Checker<'_> {
    /// Decodes `[infras.*]`, each with the declarations of the credentials it names.
    pub(super) fn decode_infras(&mut self) -> BTreeMap<String, (InfraSpec, toml::Table)> {
        let raw_credentials = toml::from_str::<toml::Table>(self.src.text)
            .ok()
            .and_then(|doc| doc.get("credentials").and_then(|c| c.as_table()).cloned());
        let mut infras = BTreeMap::new();
        for (name, table) in std::mem::take(&mut self.raw.infras) {
            let at = self
                .src
                .text
                .find(&format!("[infras.{name}"))
                .map(|i| i..i)
                .unwrap_or(0..0);
            if let Err(e) = paths::check(NameKind::Infra, &name) {
                self.problem(at.clone(), e.to_string());
            }
            let mut table = table;
            let base = self.src.path.parent().unwrap_or(std::path::Path::new("."));
            InfraSpec::resolve_paths(&mut table, base);
            match InfraSpec::decode(&name, &table, raw_credentials.as_ref()) {
                Ok(decoded) => {
                    infras.insert(name, decoded);
                }
                Err(message) => self.problem(at, message),
            }
        }
        infras
    }

    pub(super) fn check_deploy(&mut self, step: &DeployStep, span: &Range<usize>) {
        if let Some(id) = &step.deployment
            && !is_identifier(id)
        {
            self.step_problem(
                span,
                "deployment",
                format!("deployment id `{id}` must use only letters, digits, `-` and `_`"),
            );
        }
        if let Err(e) = paths::check(NameKind::Infra, &step.infra) {
            self.step_problem(span, "infra", e.to_string());
        }
    }
}
