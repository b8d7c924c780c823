//! On-disk cache of compiled components. Compiling a component takes tens of milliseconds to
//! seconds; loading the precompiled artifact takes well under one. Artifacts are keyed by the
//! component's SHA-256 and the engine's compatibility hash, so a new ferry or changed engine
//! settings never load a stale artifact.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::PluginError;

pub(crate) struct CompileCache {
    dir: PathBuf,
    engine_key: String,
}

impl CompileCache {
    pub fn new(engine: &Engine, dir: PathBuf) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// Where the compiled form of the component with SHA-256 `digest` is kept.
    fn artifact(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_key))
    }

    /// Whether the component with SHA-256 `digest` was compiled by an engine like this one
    /// before (`ferry plugin inspect`).
    pub fn contains(&self, digest: &str) -> bool {
        self.artifact(digest).is_file()
    }

    /// Loads `bytes` (read from `path`, SHA-256 `digest`, see [`sha256_hex`]) as a component,
    /// compiling it only on a cache miss.
    pub fn load(
        &self,
        engine: &Engine,
        path: &Path,
        bytes: &[u8],
        digest: &str,
    ) -> Result<Component, PluginError> {
        let artifact = self.artifact(digest);
        if artifact.exists() {
            // SAFETY: the artifact was written by `precompile_component` of an engine with the
            // same compatibility hash (it is in the file name), into ferry's own state dir.
            match unsafe { Component::deserialize_file(engine, &artifact) } {
                Ok(component) => {
                    tracing::debug!(plugin = %path.display(), artifact = %artifact.display(), "compiled plugin loaded from cache");
                    return Ok(component);
                }
                Err(e) => {
                    tracing::warn!(artifact = %artifact.display(), error = %e, "ignoring unreadable cached artifact")
                }
            }
        }
        let started = std::time::Instant::now();
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| PluginError::Compile {
                path: path.to_owned(),
                message: first_line(&e),
            })?;
        tracing::info!(plugin = %path.display(), elapsed_ms = started.elapsed().as_millis() as u64, "compiled plugin");
        if let Err(e) = write_atomically(&artifact, &compiled) {
            tracing::warn!(artifact = %artifact.display(), error = %e, "could not cache compiled plugin");
        }
        // SAFETY: `compiled` was produced just now by this engine.
        unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| PluginError::Compile {
            path: path.to_owned(),
            message: first_line(&e),
        })
    }
}

/// SHA-256 of `bytes`, lowercase hex: the cache key, and what `[plugins]` pins.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes to a temporary file and renames it, so a concurrent reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Wasmtime errors carry long chains and backtraces; users need the first line.
pub(crate) fn first_line(e: &wasmtime::Error) -> String {
    let text = format!("{e:#}");
    text.lines().next().unwrap_or_default().to_owned()
}
