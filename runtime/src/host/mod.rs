//! The wasmtime side of ferry: one [`Engine`] with the pooling allocator and epoch
//! interruption, a compile cache on disk, one [`InstancePre`](wasmtime::component::InstancePre)
//! per plugin, and a WASI context per instance built from exactly what the step grants.
//!
//! Everything a plugin does wrong (trap, endless loop, memory exhaustion, a bad batch) comes
//! back as a [`PluginError`] for that call; the host process carries on.

mod batch;
mod bindings;
mod cache;
mod call;
mod catalog;
mod deployer;
mod error;
mod grants;
mod inspect;
mod limits;
mod object;
mod outbound;
mod parser;
mod pattern;
mod predictor;
mod source;
mod state;
mod v0_1;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

pub use batch::RowBatch;
pub use bindings::wit::{Description, PluginKind as DescribedKind, SettingInfo, SettingType};
pub use catalog::Catalog;
pub use deployer::{
    CloudResource, DeployHealth, DeployerInstance, Operation, Target, TargetStatus, VersionRef,
};
pub use error::PluginError;
pub use grants::HostGrants;
pub use inspect::Inspection;
pub use limits::{CallLimits, CancelToken};
pub use outbound::{CredentialUse, GrantProblem, OutboundPolicy};
pub use parser::{ParserInstance, ParserOutput};
pub use pattern::HostPattern;
pub use predictor::PredictorInstance;
pub use source::{ListPage, ObjectInfo, SourceInstance};
pub use state::{DirAccess, Sandbox};

use bindings::deployer::DeployerPluginPre;
use bindings::described::DescribedPre;
use bindings::file_parser::FileParserPluginPre;
use bindings::parser::ParserPluginPre;
use bindings::predictor::PredictorPluginPre;
use bindings::source::SourcePluginPre;
use bindings::v0_1::parser::ParserPluginPre as ParserPluginPreV01;
use bindings::v0_1::predictor::PredictorPluginPre as PredictorPluginPreV01;
use bindings::v0_1::source::SourcePluginPre as SourcePluginPreV01;
use cache::CompileCache;
use limits::{EpochTicker, Guard};
use parser::ParserWorld;
use predictor::PredictorWorld;
use source::SourceWorld;
use state::PluginState;

/// The WIT package version this host implements. Plugins built for any semver-compatible
/// version (0.2.x) load, and 0.1.x sources, parsers and predictors through one adapter;
/// others are refused with a message naming both versions.
pub const WIT_VERSION: &str = "0.2.0";

/// The older version still loaded (see `v0_1.rs`).
pub const WIT_VERSION_V01: &str = "0.1.0";

/// The kinds of plugin, one WIT world each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    Source,
    Parser,
    /// Scores rows for a service endpoint on an API node.
    Predictor,
    /// Makes an infra serve a service's packages.
    Deployer,
}

impl PluginKind {
    pub fn name(self) -> &'static str {
        match self {
            PluginKind::Source => "source",
            PluginKind::Parser => "parser",
            PluginKind::Predictor => "predictor",
            PluginKind::Deployer => "deployer",
        }
    }

    /// The interface a plugin of this kind exports, without version.
    fn interface(self) -> &'static str {
        match self {
            PluginKind::Source => "ferry:plugin/source",
            PluginKind::Parser => "ferry:plugin/parser",
            PluginKind::Predictor => "ferry:plugin/predictor",
            PluginKind::Deployer => "ferry:plugin/deployer",
        }
    }

    /// Interfaces a plugin of this kind may export instead (a parser that reads whole files).
    fn alternatives(self) -> &'static [&'static str] {
        match self {
            PluginKind::Parser => &["ferry:plugin/file-parser"],
            _ => &[],
        }
    }
}

/// Which WIT version a plugin was built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Current,
    V01,
}

/// A plugin compiled and linked, ready to instantiate cheaply any number of times.
pub struct LoadedPlugin {
    pub name: String,
    pub path: PathBuf,
    /// SHA-256 of the component file as loaded, lowercase hex (what a workflow pins).
    pub sha256: String,
    pre: Pre,
    /// The same component bound as "anything that exports `about`" (0.2 plugins only).
    described: Option<DescribedPre<PluginState>>,
}

enum Pre {
    Source(SourcePluginPre<PluginState>),
    SourceV01(SourcePluginPreV01<PluginState>),
    Parser(ParserPluginPre<PluginState>),
    FileParser(FileParserPluginPre<PluginState>),
    ParserV01(ParserPluginPreV01<PluginState>),
    Predictor(PredictorPluginPre<PluginState>),
    PredictorV01(PredictorPluginPreV01<PluginState>),
    Deployer(DeployerPluginPre<PluginState>),
}

impl LoadedPlugin {
    pub fn kind(&self) -> PluginKind {
        match self.pre {
            Pre::Source(_) | Pre::SourceV01(_) => PluginKind::Source,
            Pre::Parser(_) | Pre::FileParser(_) | Pre::ParserV01(_) => PluginKind::Parser,
            Pre::Predictor(_) | Pre::PredictorV01(_) => PluginKind::Predictor,
            Pre::Deployer(_) => PluginKind::Deployer,
        }
    }

    /// The WIT package version it was built for (`0.2.0`, `0.1.0`).
    pub fn wit_version(&self) -> &'static str {
        match self.pre {
            Pre::SourceV01(_) | Pre::ParserV01(_) | Pre::PredictorV01(_) => WIT_VERSION_V01,
            _ => WIT_VERSION,
        }
    }
}

/// Where an instance runs: which step it serves, what it may touch, and its limits.
#[derive(Debug, Clone)]
pub struct InstanceOptions {
    pub step: Arc<str>,
    pub sandbox: Sandbox,
    pub limits: CallLimits,
    pub cancel: CancelToken,
}

pub struct PluginHost {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: CompileCache,
    loaded: Mutex<HashMap<(PathBuf, PluginKind), Arc<LoadedPlugin>>>,
    instantiations: std::sync::atomic::AtomicU64,
    _ticker: EpochTicker,
}

impl PluginHost {
    /// Creates the engine; compiled artifacts are cached under `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> Result<Self, PluginError> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(256)
            .total_core_instances(1024)
            .total_memories(512)
            .total_tables(1024)
            .total_stacks(256)
            .max_memories_per_component(8)
            .max_tables_per_component(16)
            .max_core_instances_per_component(32)
            .max_component_instance_size(1 << 20)
            .max_core_instance_size(4 << 20)
            .max_memory_size(4 << 30);
        let mut config = Config::new();
        config
            .wasm_wide_arithmetic(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|e| PluginError::Link {
            plugin: "(engine)".into(),
            message: cache::first_line(&e),
        })?;
        // Both of rustls's crypto back ends are in the build (through different dependencies),
        // so the process must pick one before the first TLS connection.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut linker = Linker::new(&engine);
        let link = |r: wasmtime::Result<()>| {
            r.map_err(|e| PluginError::Link {
                plugin: "(host)".into(),
                message: cache::first_line(&e),
            })
        };
        link(wasmtime_wasi::p2::add_to_linker_async(&mut linker))?;
        // Every plugin links against wasi:http; what it may reach is the step's policy.
        link(wasmtime_wasi_http::p2::add_only_http_to_linker_async(
            &mut linker,
        ))?;
        link(bindings::source::SourcePlugin::add_to_linker::<
            _,
            HasSelf<PluginState>,
        >(&mut linker, |s| s))?;
        link(
            bindings::file_parser::ferry::plugin::object::add_to_linker::<_, HasSelf<PluginState>>(
                &mut linker,
                |s| s,
            ),
        )?;
        link(bindings::v0_1::source::SourcePlugin::add_to_linker::<
            _,
            HasSelf<PluginState>,
        >(&mut linker, |s| s))?;
        let cache = CompileCache::new(&engine, cache_dir);
        let ticker = EpochTicker::start(&engine);
        Ok(PluginHost {
            engine,
            linker,
            cache,
            loaded: Mutex::new(HashMap::new()),
            instantiations: Default::default(),
            _ticker: ticker,
        })
    }

    /// Compiles (or loads from cache), checks the world and version, and pre-links a plugin.
    /// Repeated loads of the same file return the same [`LoadedPlugin`].
    pub fn load(
        &self,
        name: &str,
        path: &Path,
        kind: PluginKind,
    ) -> Result<Arc<LoadedPlugin>, PluginError> {
        self.load_pinned(name, path, kind, None)
    }

    /// As [`PluginHost::load`], and refuses the file unless its SHA-256 is `sha256` (a
    /// workflow's `[plugins] name = { path, sha256 }`). The digest is taken of the very bytes
    /// that are compiled, so a file swapped after the check cannot slip through.
    pub fn load_pinned(
        &self,
        name: &str,
        path: &Path,
        kind: PluginKind,
        sha256: Option<&str>,
    ) -> Result<Arc<LoadedPlugin>, PluginError> {
        let key = (path.to_owned(), kind);
        if let Some(p) = self.loaded.lock().expect("plugin map lock").get(&key) {
            check_pin(name, path, sha256, &p.sha256)?;
            return Ok(p.clone());
        }
        let bytes = std::fs::read(path).map_err(|source| PluginError::Read {
            path: path.to_owned(),
            source,
        })?;
        let digest = cache::sha256_hex(&bytes);
        check_pin(name, path, sha256, &digest)?;
        check_header(path, &bytes)?;
        let component = self.cache.load(&self.engine, path, &bytes, &digest)?;
        self.link(name, path, kind, digest, &component)
    }

    /// Checks that `component` (of the file at `path`, whose SHA-256 is `digest`) is a `kind`
    /// plugin of a version this host loads, pre-links it, and keeps it for later loads.
    fn link(
        &self,
        name: &str,
        path: &Path,
        kind: PluginKind,
        digest: String,
        component: &Component,
    ) -> Result<Arc<LoadedPlugin>, PluginError> {
        let key = (path.to_owned(), kind);
        let (version, interface) = self.check_exports(name, component, kind)?;
        let pre = self.linker.instantiate_pre(component).map_err(|e| PluginError::Link {
            plugin: name.to_owned(),
            message: format!(
                "{} (a {} plugin may import only wasi:cli, wasi:clocks, wasi:io, wasi:random, wasi:filesystem, wasi:http and ferry:plugin/host)",
                cache::first_line(&e),
                kind.name()
            ),
        })?;
        let link_err = |e: wasmtime::Error| PluginError::Link {
            plugin: name.to_owned(),
            message: cache::first_line(&e),
        };
        let described = match version {
            Version::Current => Some(DescribedPre::new(pre.clone()).map_err(link_err)?),
            Version::V01 => None,
        };
        let pre = match (kind, version) {
            (PluginKind::Source, Version::Current) => {
                Pre::Source(SourcePluginPre::new(pre).map_err(link_err)?)
            }
            (PluginKind::Source, Version::V01) => {
                Pre::SourceV01(SourcePluginPreV01::new(pre).map_err(link_err)?)
            }
            (PluginKind::Parser, Version::Current) if interface == "ferry:plugin/file-parser" => {
                Pre::FileParser(FileParserPluginPre::new(pre).map_err(link_err)?)
            }
            (PluginKind::Parser, Version::Current) => {
                Pre::Parser(ParserPluginPre::new(pre).map_err(link_err)?)
            }
            (PluginKind::Parser, Version::V01) => {
                Pre::ParserV01(ParserPluginPreV01::new(pre).map_err(link_err)?)
            }
            (PluginKind::Predictor, Version::Current) => {
                Pre::Predictor(PredictorPluginPre::new(pre).map_err(link_err)?)
            }
            (PluginKind::Predictor, Version::V01) => {
                Pre::PredictorV01(PredictorPluginPreV01::new(pre).map_err(link_err)?)
            }
            (PluginKind::Deployer, _) => {
                Pre::Deployer(DeployerPluginPre::new(pre).map_err(link_err)?)
            }
        };
        let plugin = Arc::new(LoadedPlugin {
            name: name.to_owned(),
            path: path.to_owned(),
            sha256: digest,
            pre,
            described,
        });
        self.loaded
            .lock()
            .expect("plugin map lock")
            .insert(key, plugin.clone());
        Ok(plugin)
    }

    /// Which version (and, for parsers, which world) the plugin was built for, or why it cannot
    /// load. The interface returned is the export found, without its version.
    fn check_exports(
        &self,
        name: &str,
        component: &Component,
        kind: PluginKind,
    ) -> Result<(Version, &'static str), PluginError> {
        let interface = kind.interface();
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let wanted: Vec<&'static str> = std::iter::once(kind.interface())
            .chain(kind.alternatives().iter().copied())
            .collect();
        let Some((found, export)) = exports.iter().find_map(|e| {
            let base = e.split('@').next()?;
            wanted.iter().find(|w| **w == base).map(|w| (*w, e))
        }) else {
            return Err(PluginError::WrongWorld {
                plugin: name.to_owned(),
                kind: kind.name(),
                expected: format!("{interface}@{WIT_VERSION}"),
                exports,
            });
        };
        let version = export.split_once('@').map(|(_, v)| v).unwrap_or("");
        let matches = |supported: &str| {
            semver::Version::parse(version).is_ok_and(|v| {
                semver::VersionReq::parse(&format!("^{supported}")).is_ok_and(|req| req.matches(&v))
            })
        };
        if matches(WIT_VERSION) {
            return Ok((Version::Current, found));
        }
        if matches(WIT_VERSION_V01) && v0_1::KINDS.contains(&kind) && found == kind.interface() {
            return Ok((Version::V01, found));
        }
        let supported = if v0_1::KINDS.contains(&kind) {
            format!("{found}@{WIT_VERSION} (and {interface}@{WIT_VERSION_V01})")
        } else {
            format!("{found}@{WIT_VERSION}")
        };
        Err(PluginError::IncompatibleVersion {
            plugin: name.to_owned(),
            found: export.clone(),
            supported,
        })
    }

    /// What a plugin says about itself; `None` for a 0.1 plugin, which cannot say. The call
    /// runs in an instance that is granted nothing.
    pub async fn describe(
        &self,
        plugin: &LoadedPlugin,
    ) -> Result<Option<Description>, PluginError> {
        let Some(pre) = &plugin.described else {
            return Ok(None);
        };
        let options = InstanceOptions {
            step: "describe".into(),
            sandbox: Sandbox::default(),
            limits: CallLimits::default(),
            cancel: CancelToken::default(),
        };
        let (mut store, bindings) = self
            .instantiate(plugin, &options, async |s| pre.instantiate_async(s).await)
            .await?;
        let about = bindings.ferry_plugin_about();
        let description = call::guarded(&mut store, &plugin.name, "describe", async |s| {
            about.call_describe(s).await
        })
        .await?;
        Ok(Some(description))
    }

    /// Plugin instances created so far (for metrics).
    pub fn instantiations(&self) -> u64 {
        self.instantiations
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn store(
        &self,
        plugin: &LoadedPlugin,
        options: &InstanceOptions,
    ) -> Result<Store<PluginState>, PluginError> {
        self.instantiations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let guard = Guard::new(options.limits, options.cancel.clone());
        let state = PluginState::new(
            plugin.name.as_str().into(),
            options.step.clone(),
            &options.sandbox,
            guard,
        )
        .map_err(|e| PluginError::Link {
            plugin: plugin.name.clone(),
            message: format!("cannot grant directory {e}"),
        })?;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.guard);
        store.epoch_deadline_callback(|mut ctx| match ctx.data_mut().guard.on_tick() {
            Ok(()) => Ok(wasmtime::UpdateDeadline::Yield(1)),
            Err(why) => Err(wasmtime::Error::msg(format!("interrupted: {why:?}"))),
        });
        store.set_epoch_deadline(1);
        Ok(store)
    }

    pub async fn source(
        &self,
        plugin: &LoadedPlugin,
        options: &InstanceOptions,
    ) -> Result<SourceInstance, PluginError> {
        let (store, world) = match &plugin.pre {
            Pre::Source(pre) => {
                let (store, b) = self
                    .instantiate(plugin, options, async |s| pre.instantiate_async(s).await)
                    .await?;
                (store, SourceWorld::Current(b))
            }
            Pre::SourceV01(pre) => {
                let (store, b) = self
                    .instantiate(plugin, options, async |s| pre.instantiate_async(s).await)
                    .await?;
                (store, SourceWorld::V01(b))
            }
            _ => return Err(wrong_kind(plugin, PluginKind::Source)),
        };
        Ok(SourceInstance::new(plugin.name.clone(), store, world))
    }

    pub async fn parser(
        &self,
        plugin: &LoadedPlugin,
        options: &InstanceOptions,
    ) -> Result<ParserInstance, PluginError> {
        let (store, world) = match &plugin.pre {
            Pre::Parser(pre) => {
                let (store, b) = self
                    .instantiate(plugin, options, async |s| pre.instantiate_async(s).await)
                    .await?;
                (store, ParserWorld::Stream(b))
            }
            Pre::FileParser(pre) => {
                let (store, b) = self
                    .instantiate(plugin, options, async |s| pre.instantiate_async(s).await)
                    .await?;
                (store, ParserWorld::File(b))
            }
            Pre::ParserV01(pre) => {
                let (store, b) = self
                    .instantiate(plugin, options, async |s| pre.instantiate_async(s).await)
                    .await?;
                (store, ParserWorld::StreamV01(b))
            }
            _ => return Err(wrong_kind(plugin, PluginKind::Parser)),
        };
        Ok(ParserInstance::new(plugin.name.clone(), store, world))
    }

    pub async fn predictor(
        &self,
        plugin: &LoadedPlugin,
        options: &InstanceOptions,
    ) -> Result<PredictorInstance, PluginError> {
        let (store, world) = match &plugin.pre {
            Pre::Predictor(pre) => {
                let (store, b) = self
                    .instantiate(plugin, options, async |s| pre.instantiate_async(s).await)
                    .await?;
                (store, PredictorWorld::Current(b))
            }
            Pre::PredictorV01(pre) => {
                let (store, b) = self
                    .instantiate(plugin, options, async |s| pre.instantiate_async(s).await)
                    .await?;
                (store, PredictorWorld::V01(b))
            }
            _ => return Err(wrong_kind(plugin, PluginKind::Predictor)),
        };
        Ok(PredictorInstance::new(plugin.name.clone(), store, world))
    }

    pub async fn deployer(
        &self,
        plugin: &LoadedPlugin,
        options: &InstanceOptions,
    ) -> Result<DeployerInstance, PluginError> {
        let Pre::Deployer(pre) = &plugin.pre else {
            return Err(wrong_kind(plugin, PluginKind::Deployer));
        };
        let (store, bindings) = self
            .instantiate(plugin, options, async |s| pre.instantiate_async(s).await)
            .await?;
        Ok(DeployerInstance::new(plugin.name.clone(), store, bindings))
    }

    /// A fresh store for `plugin` and its instance, made under the same limits as any call.
    async fn instantiate<B>(
        &self,
        plugin: &LoadedPlugin,
        options: &InstanceOptions,
        instantiate: impl AsyncFnOnce(&mut Store<PluginState>) -> wasmtime::Result<B>,
    ) -> Result<(Store<PluginState>, B), PluginError> {
        let mut store = self.store(plugin, options)?;
        let bindings = call::guarded(&mut store, &plugin.name, "instantiate", instantiate).await?;
        Ok((store, bindings))
    }
}

fn wrong_kind(plugin: &LoadedPlugin, kind: PluginKind) -> PluginError {
    PluginError::WrongWorld {
        plugin: plugin.name.clone(),
        kind: kind.name(),
        expected: format!("{}@{WIT_VERSION}", kind.interface()),
        exports: vec![format!("{}@{WIT_VERSION}", plugin.kind().interface())],
    }
}

/// Tells a core module or a random file from a component before wasmtime's parser does, to
/// give a message that says what to do about it.
/// Refuses a file whose SHA-256 `found` is not the `pinned` one (when one is pinned).
fn check_pin(
    name: &str,
    path: &Path,
    pinned: Option<&str>,
    found: &str,
) -> Result<(), PluginError> {
    match pinned {
        Some(expected) if !expected.eq_ignore_ascii_case(found) => {
            Err(PluginError::DigestMismatch {
                plugin: name.to_owned(),
                path: path.to_owned(),
                expected: expected.to_ascii_lowercase(),
                found: found.to_owned(),
            })
        }
        _ => Ok(()),
    }
}

fn check_header(path: &Path, bytes: &[u8]) -> Result<(), PluginError> {
    const MAGIC: &[u8] = b"\0asm";
    const TEXT_COMPONENT: &[u8] = b"(component";
    if bytes.starts_with(MAGIC) {
        return match bytes.get(4..8) {
            Some([0x0d, 0x00, 0x01, 0x00]) => Ok(()),
            Some([0x01, 0x00, 0x00, 0x00]) => Err(PluginError::CoreModule {
                path: path.to_owned(),
            }),
            _ => Err(PluginError::NotWasm {
                path: path.to_owned(),
            }),
        };
    }
    // The text format is accepted too, which keeps hand-written test components readable.
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let code = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(";;"))
        .unwrap_or_default();
    if code.as_bytes().starts_with(TEXT_COMPONENT) {
        Ok(())
    } else if code.starts_with("(module") {
        Err(PluginError::CoreModule {
            path: path.to_owned(),
        })
    } else {
        Err(PluginError::NotWasm {
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests;
