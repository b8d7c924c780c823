//! What a plugin's store holds: its WASI context (only what the step granted), its limits, its
//! settings, and its identity for logs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::bindings::host_api::{self, Level};
use super::limits::Guard;
use super::outbound::{OutboundHooks, OutboundPolicy};

/// A host directory a plugin may see, at `mount`.
#[derive(Debug, Clone)]
pub struct DirAccess {
    pub host: PathBuf,
    pub mount: String,
    pub write: bool,
}

/// Everything a step grants its plugin. The default grants nothing at all.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    pub dirs: Vec<DirAccess>,
    /// Non-secret settings, as `host.setting` returns them.
    pub settings: BTreeMap<String, String>,
    /// Hosts the plugin may reach over `wasi:http`, and the credentials the host adds.
    pub outbound: Arc<OutboundPolicy>,
}

/// How much of a guest's stderr is kept (panic messages are read from it).
const STDERR_CAPACITY: usize = 64 * 1024;

pub struct PluginState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    pub(crate) outbound: OutboundHooks,
    table: ResourceTable,
    pub(crate) guard: Guard,
    pub(crate) stderr: MemoryOutputPipe,
    settings: BTreeMap<String, String>,
    plugin: Arc<str>,
    step: Arc<str>,
    pub(crate) progress: (u64, Option<u64>),
    /// The object a file parser is reading (see `object.rs`); `None` for every other plugin.
    pub(crate) object: Option<super::object::OpenObject>,
}

impl PluginState {
    pub(crate) fn new(
        plugin: Arc<str>,
        step: Arc<str>,
        sandbox: &Sandbox,
        guard: Guard,
    ) -> Result<Self, std::io::Error> {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let mut builder = WasiCtxBuilder::new();
        builder
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        for dir in &sandbox.dirs {
            let perms = if dir.write {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            builder
                .preopened_dir(&dir.host, &dir.mount, perms)
                .map_err(|e| std::io::Error::other(format!("{}: {e}", dir.host.display())))?;
        }
        let outbound = OutboundHooks {
            policy: sandbox.outbound.clone(),
            step: step.clone(),
            plugin: plugin.clone(),
            denied: None,
        };
        Ok(PluginState {
            wasi: builder.build(),
            http: WasiHttpCtx::new(),
            outbound,
            table: ResourceTable::new(),
            guard,
            stderr,
            settings: sandbox.settings.clone(),
            plugin,
            step,
            progress: (0, None),
            object: None,
        })
    }

    /// The last non-empty line the guest wrote to stderr (a panic message, usually).
    pub(crate) fn last_stderr_line(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.starts_with("note:"))
            .map(|l| l.trim().to_owned())
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for PluginState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

/// The `types` interface has no functions; it only needs to be linked.
impl super::bindings::wit::Host for PluginState {}

impl host_api::Host for PluginState {
    fn log(&mut self, level: Level, message: String) {
        let (plugin, step) = (&*self.plugin, &*self.step);
        match level {
            Level::Trace => tracing::trace!(plugin, step, "{message}"),
            Level::Debug => tracing::debug!(plugin, step, "{message}"),
            Level::Info => tracing::info!(plugin, step, "{message}"),
            Level::Warn => tracing::warn!(plugin, step, "{message}"),
            Level::Error => tracing::error!(plugin, step, "{message}"),
        }
    }

    fn progress(&mut self, done: u64, total: Option<u64>) {
        self.progress = (done, total);
    }

    fn setting(&mut self, name: String) -> Option<String> {
        self.settings.get(&name).cloned()
    }

    fn setting_names(&mut self) -> Vec<String> {
        self.settings.keys().cloned().collect()
    }
}
