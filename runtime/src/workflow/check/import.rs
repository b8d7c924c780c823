//! The import step: grants (mounts, granted directories), concurrency, glob, limits, settings.

use std::ops::Range;
use std::path::Path;

use super::Checker;
use crate::workflow::*;

impl Checker<'_> {
    pub(super) fn check_import(&mut self, step: &ImportStep, span: &Range<usize>) {
        let mut mounts: Vec<&str> = Vec::new();
        let dir = self.src.path.parent().unwrap_or(Path::new(".")).to_owned();
        for grant in &step.grants.dirs {
            if !grant.mount.starts_with('/') {
                self.step_problem(
                    span,
                    "dirs",
                    format!(
                        "grant mount `{}` must be an absolute path such as `/data`",
                        grant.mount
                    ),
                );
            }
            if mounts.contains(&grant.mount.as_str()) {
                self.step_problem(
                    span,
                    "dirs",
                    format!("two grants mount at `{}`", grant.mount),
                );
            }
            mounts.push(&grant.mount);
            let host = dir.join(&grant.path);
            if !host.is_dir() {
                self.step_problem(
                    span,
                    "dirs",
                    format!(
                        "granted directory `{}` does not exist (resolved to {})",
                        grant.path.display(),
                        host.display()
                    ),
                );
            }
        }
        for grant in &step.grants.credentials {
            if !self.raw.credentials.contains_key(&grant.name) {
                let mut message = format!(
                    "credential `{}` is not declared in [credentials]",
                    grant.name
                );
                if let Some(close) =
                    did_you_mean(&grant.name, self.raw.credentials.keys().map(String::as_str))
                {
                    message.push_str(&format!(", did you mean `{close}`?"));
                }
                self.step_problem(span, "credentials", message);
            }
        }
        if let Some(n) = step.concurrency
            && !(1..=64).contains(&n)
        {
            self.step_problem(
                span,
                "concurrency",
                format!("concurrency {n} must be between 1 and 64"),
            );
        }
        if let Some(glob) = &step.glob
            && let Err(e) = globset::Glob::new(glob)
        {
            self.step_problem(span, "glob", format!("invalid glob `{glob}`: {e}"));
        }
        if let Some(memory) = step.limits.memory
            && !(1 << 20..=4 << 30).contains(&memory.0)
        {
            self.step_problem(
                span,
                "memory",
                format!("memory limit {memory} must be between 1MiB and 4GiB"),
            );
        }
        if let Some(timeout) = step.limits.timeout
            && timeout.0.is_zero()
        {
            self.step_problem(span, "timeout", "timeout must be more than zero");
        }
        for (what, settings) in [
            ("source_settings", &step.source_settings),
            ("parser_settings", &step.parser_settings),
        ] {
            if let Err(message) = plugin_settings(settings) {
                self.step_problem(span, what, message);
            }
        }
    }
}
