//! `service_file`: the one other file a workflow reads — a `[service]` shared by workflows,
//! its artifact paths made absolute against it.

use std::path::Path;

use super::Checker;
use crate::workflow::*;

impl Checker<'_> {
    /// Reads `service_file` into `service`, artifact paths made absolute.
    pub(super) fn load_service_file(&mut self) {
        let Some(file) = self.raw.service_file.clone() else {
            return;
        };
        let at = self
            .src
            .text
            .find("service_file")
            .map(|i| i..i)
            .unwrap_or(0..0);
        if self.raw.service.is_some() {
            self.problem(at, "give [service] or service_file, not both");
            return;
        }
        let path = self.src.path.parent().unwrap_or(Path::new(".")).join(&file);
        let loaded = std::fs::read_to_string(&path)
            .map_err(|e| format!("service_file {}: {e}", path.display()))
            .and_then(|text| {
                toml::from_str::<ServiceSpec>(&text).map_err(|e| {
                    let line = e
                        .span()
                        .map(|s| text[..s.start].lines().count().max(1))
                        .unwrap_or(1);
                    format!("{}:{line}: {}", path.display(), e.message().trim())
                })
            });
        match loaded {
            Ok(mut service) => {
                let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
                for endpoint in &mut service.endpoints {
                    if let EndpointSpec::Prediction { artifacts, .. } = endpoint {
                        for a in artifacts.iter_mut() {
                            *a = dir.join(&*a);
                        }
                    }
                }
                self.raw.service = Some(service);
            }
            Err(message) => self.problem(at, message),
        }
    }
}
