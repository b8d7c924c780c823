//! The package step and the `[service]` it packages: ids, versions, endpoints, artifacts, auth.

use std::ops::Range;
use std::path::Path;

use super::{Checker, is_identifier};
use crate::paths::{self, NameKind};
use crate::workflow::*;

impl Checker<'_> {
    pub(super) fn check_package(&mut self, step: &PackageStep, span: &Range<usize>) {
        let Some(service) = self.raw.service.clone() else {
            self.step_problem(
                span,
                "kind",
                "a package step needs a [service] with its endpoints",
            );
            return;
        };
        if let Err(e) = paths::check(NameKind::Service, &service.id) {
            self.problem(0..0, e.to_string());
        }
        if let Some(v) = &step.version
            && let Err(e) = paths::check(NameKind::Version, v)
        {
            self.step_problem(span, "version", e.to_string());
        }
        if service.endpoints.is_empty() {
            self.problem(0..0, "the [service] has no endpoints");
        }
        if let Err(message) = service.auth.check(service.oauth2.as_ref()) {
            let at = self.src.text.find("auth").map(|i| i..i).unwrap_or(0..0);
            self.problem(at, format!("service `{}`: {message}", service.id));
        }
        let mut names = Vec::new();
        for e in &service.endpoints {
            if !is_identifier(e.name()) || names.contains(&e.name()) {
                self.problem(
                    0..0,
                    format!(
                        "endpoint name `{}` must be unique and use only letters, digits, `-` and `_`",
                        e.name()
                    ),
                );
            }
            names.push(e.name());
            if let EndpointSpec::Prediction { artifacts, .. } = e {
                let dir = self.src.path.parent().unwrap_or(Path::new(".")).to_owned();
                for a in artifacts {
                    if !dir.join(a).exists() {
                        self.problem(
                            0..0,
                            format!(
                                "endpoint `{}`: artifact `{}` does not exist (resolved to {})",
                                e.name(),
                                a.display(),
                                dir.join(a).display()
                            ),
                        );
                    }
                }
            }
        }
    }
}
