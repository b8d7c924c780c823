//! What a component file is, without running it on data: its kind, world and WIT version (from
//! its exports), what it imports, what it says about itself, and whether its compiled form was
//! already cached. `ferry plugin inspect` and `ferry plugin build` print this.

use std::path::{Path, PathBuf};

use super::bindings::wit::Description;
use super::error::PluginError;
use super::{PluginHost, PluginKind, WIT_VERSION, cache, check_header};

/// A component file as the host sees it.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub path: PathBuf,
    pub size: u64,
    /// SHA-256 of the file, lowercase hex: what `[plugins] name = { path, sha256 }` pins.
    pub sha256: String,
    pub kind: PluginKind,
    /// The world it was built for (`parser-plugin`, `file-parser-plugin`, …).
    pub world: &'static str,
    /// The `ferry:plugin` version of its main export (`0.2.0`).
    pub wit_version: String,
    /// Every import, with version (`wasi:filesystem/preopens@0.2.6`).
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    /// Whether a compiled form was in the cache before this inspection (it is after).
    pub cached: bool,
    /// What the plugin says about itself; `None` for a 0.1 plugin.
    pub description: Option<Description>,
}

/// The kinds in the order they are tried, each with its worlds by exported interface.
const WORLDS: &[(PluginKind, &str, &str)] = &[
    (PluginKind::Source, "ferry:plugin/source", "source-plugin"),
    (PluginKind::Parser, "ferry:plugin/parser", "parser-plugin"),
    (
        PluginKind::Parser,
        "ferry:plugin/file-parser",
        "file-parser-plugin",
    ),
    (
        PluginKind::Predictor,
        "ferry:plugin/predictor",
        "predictor-plugin",
    ),
    (
        PluginKind::Deployer,
        "ferry:plugin/deployer",
        "deployer-plugin",
    ),
];

impl PluginHost {
    /// Compiles (or loads from cache) the component at `path`, tells its kind from what it
    /// exports, links it as that kind (which checks its version and that it imports nothing
    /// the host does not provide), and asks it to describe itself in an instance granted
    /// nothing.
    pub async fn inspect(&self, path: &Path) -> Result<Inspection, PluginError> {
        let bytes = std::fs::read(path).map_err(|source| PluginError::Read {
            path: path.to_owned(),
            source,
        })?;
        check_header(path, &bytes)?;
        let digest = cache::sha256_hex(&bytes);
        let cached = self.cache.contains(&digest);
        let component = self.cache.load(&self.engine, path, &bytes, &digest)?;
        let ty = component.component_type();
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let imports: Vec<String> = ty
            .imports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().replace('_', "-"))
            .unwrap_or_default();
        let found = exports.iter().find_map(|export| {
            let (base, version) = export.split_once('@').unwrap_or((export, ""));
            WORLDS
                .iter()
                .find(|(_, interface, _)| *interface == base)
                .map(|(kind, _, world)| (*kind, *world, version.to_owned()))
        });
        let Some((kind, world, wit_version)) = found else {
            return Err(PluginError::WrongWorld {
                plugin: name,
                kind: "ferry",
                expected: format!(
                    "one of {} (at {WIT_VERSION})",
                    WORLDS.iter().map(|w| w.1).collect::<Vec<_>>().join(", ")
                ),
                exports,
            });
        };
        // Linked from the component compiled above: the file is read and hashed once.
        let plugin = self.link(&name, path, kind, digest, &component)?;
        let description = self.describe(&plugin).await?;
        Ok(Inspection {
            path: path.to_owned(),
            size: bytes.len() as u64,
            sha256: plugin.sha256.clone(),
            kind,
            world,
            wit_version,
            imports,
            exports,
            cached,
            description,
        })
    }
}
