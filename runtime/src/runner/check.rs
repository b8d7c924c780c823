//! Everything `ferry validate` checks, including what only the store knows: a deploy step's
//! infra stored earlier with `ferry infras apply` must exist, and its plugin, grants and
//! secrets must be fine *now* — otherwise a run would ingest and package, and only then fail
//! at its deploy step. [`Runner::check`] is the one entry for `ferry validate`, `ferry run` and
//! `PUT /v1/workflows`, so they refuse the same workflows.

use super::Runner;
use crate::engine::{EngineError, Prepared};
use crate::workflow::{Problem, Workflow};

impl Runner<'_> {
    /// The engine's `prepare`, plus the checks of the deploy step's infra (declared in the
    /// file, or stored). Every problem found is returned together, each at its place in the
    /// file.
    pub async fn check(&self, workflow: &Workflow) -> Result<Prepared, EngineError> {
        let prepared = match self.engine().prepare(workflow) {
            Ok(prepared) => Ok(prepared),
            Err(EngineError::Plugins(problems)) => Err(problems),
            Err(other) => return Err(other),
        };
        let mut stored = self.declared_infra_problems(workflow);
        stored.extend(self.stored_infra_problems(workflow).await?);
        if let Ok(prepared) = &prepared {
            stored.extend(self.described_setting_problems(prepared).await);
        }
        match (prepared, stored.is_empty()) {
            (Ok(prepared), true) => Ok(prepared),
            (Ok(_), false) => Err(EngineError::Plugins(stored)),
            (Err(mut problems), _) => {
                problems.extend(stored);
                Err(EngineError::Plugins(problems))
            }
        }
    }

    /// The import step's settings against what its source and parser say they take. A plugin
    /// that cannot describe itself (a 0.1 plugin) still checks its settings when it starts.
    async fn described_setting_problems(&self, prepared: &Prepared) -> Vec<Problem> {
        let workflow = &prepared.workflow;
        let step = &workflow.import;
        let mut problems = Vec::new();
        for (plugin, settings, key) in [
            (&prepared.source, &step.source_settings, "source_settings"),
            (&prepared.parser, &step.parser_settings, "parser_settings"),
        ] {
            let found = match self.host.describe(plugin).await {
                Ok(Some(description)) => super::settings::problems(&description, settings),
                Ok(None) => continue,
                Err(e) => vec![format!("`{}` cannot describe itself: {e}", plugin.name)],
            };
            problems.extend(found.into_iter().map(|message| Problem {
                location: workflow.location(&step.name, key),
                message,
            }));
        }
        problems
    }

    /// The deploy step's infra when this file declares it: its plugin loads, its grants and
    /// secrets are fine.
    fn declared_infra_problems(&self, workflow: &Workflow) -> Vec<Problem> {
        let Some(step) = &workflow.deploy else {
            return Vec::new();
        };
        let Some((spec, _)) = workflow.infras.get(&step.infra) else {
            return Vec::new();
        };
        let infra = crate::deploy::Infra {
            name: step.infra.clone(),
            spec: spec.clone(),
        };
        match crate::deploy::infra::check(&infra, &self.catalog, &self.host, &self.secrets()) {
            Ok(()) => Vec::new(),
            Err(e) => vec![Problem {
                location: workflow.location(&step.name, "infra"),
                message: e.to_string(),
            }],
        }
    }

    /// The deploy step's infra, when the file does not declare it: stored, and usable with
    /// this process's secrets.
    async fn stored_infra_problems(
        &self,
        workflow: &Workflow,
    ) -> Result<Vec<Problem>, EngineError> {
        let Some(step) = &workflow.deploy else {
            return Ok(Vec::new());
        };
        if workflow.infras.contains_key(&step.infra) {
            return Ok(Vec::new());
        }
        let problem = |message: String| Problem {
            location: workflow.location(&step.name, "infra"),
            message,
        };
        let Some(record) = self.store.infra(&step.infra).await? else {
            return Ok(vec![problem(format!(
                "infra `{}` is neither declared in this file ([infras.{}]) nor stored with `ferry infras apply`",
                step.infra, step.infra
            ))]);
        };
        let checked = crate::deploy::infra::decode(record).and_then(|infra| {
            crate::deploy::infra::check(&infra, &self.catalog, &self.host, &self.secrets())
        });
        Ok(match checked {
            Ok(()) => Vec::new(),
            Err(e) => vec![problem(format!("stored {e}"))],
        })
    }
}
