//! Finding plugins by name. A workflow names built-in plugins (`parser-csv`) or its own
//! (`[plugins] logfmt = "path/to/parser_logfmt.wasm"`); built-ins are looked up on a search
//! path so that an installed ferry and a cargo build tree both work without configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::PluginError;

/// Where built-in plugins are looked for, in order.
#[derive(Debug, Clone)]
pub struct Catalog {
    dirs: Vec<PathBuf>,
}

impl Catalog {
    /// `FERRY_PLUGIN_PATH` (':'-separated) first, then `plugins/` beside the executable, then
    /// the cargo layout (`<target>/wasm32-wasip2/release` next to `<target>/release/ferry`).
    pub fn from_env() -> Self {
        let mut dirs: Vec<PathBuf> = std::env::var_os("FERRY_PLUGIN_PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        if let Ok(exe) = std::env::current_exe()
            && let Some(dir) = exe.parent()
        {
            dirs.push(dir.join("plugins"));
            // <target>/release/ferry and <target>/release/deps/<test binary>
            for up in [dir.parent(), dir.parent().and_then(Path::parent)]
                .into_iter()
                .flatten()
            {
                dirs.push(up.join("wasm32-wasip2").join("release"));
            }
        }
        Catalog { dirs }
    }

    pub fn with_dirs(dirs: Vec<PathBuf>) -> Self {
        Catalog { dirs }
    }

    /// The file for plugin `name`: a workflow's own plugin, or a built-in on the search path.
    pub fn resolve(
        &self,
        name: &str,
        custom: &BTreeMap<String, PathBuf>,
    ) -> Result<PathBuf, PluginError> {
        if let Some(path) = custom.get(name) {
            return if path.is_file() {
                Ok(path.clone())
            } else {
                Err(PluginError::NotFound {
                    name: name.to_owned(),
                    searched: vec![path.clone()],
                })
            };
        }
        let file = format!("{}.wasm", name.replace('-', "_"));
        let searched: Vec<PathBuf> = self.dirs.iter().map(|d| d.join(&file)).collect();
        searched
            .iter()
            .find(|p| p.is_file())
            .cloned()
            .ok_or_else(|| PluginError::NotFound {
                name: name.to_owned(),
                searched,
            })
    }

    /// Built-in plugin names found on the search path, for suggestions.
    pub fn builtin_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".wasm").map(|n| n.replace('_', "-"))
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }
}
