//! Authoring plugins: build a project and check what it produced, inspect a component, try one
//! on an input under a workflow's limits, and run a workflow's `[[tests]]`.

use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use serde_json::{Map, Value};

use super::App;
use crate::engine::{DryRun, Engine, EngineError, TestReport};
use crate::host::{
    CallLimits, CancelToken, DirAccess, Inspection, InstanceOptions, ObjectInfo, PluginError,
    PluginKind, Sandbox, WIT_VERSION,
};
use crate::kit::{self, KitError, Manifest, Sdk};
use crate::workflow::Workflow;

/// Why `ferry plugin build` failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The project or its toolchain failed.
    #[error(transparent)]
    Kit(#[from] KitError),
    #[error("the build produced {}, which ferry refuses: {source}", path.display())]
    /// The component built, but ferry would not load it.
    Refused {
        /// The component.
        path: PathBuf,
        /// Why not.
        #[source]
        source: PluginError,
    },
    #[error("ferry-plugin.toml says this is a {manifest} plugin, but {} is a {built} plugin ({world})", path.display())]
    /// The component is of another kind than the project says.
    WrongKind {
        /// The component.
        path: PathBuf,
        /// The kind in `ferry-plugin.toml`.
        manifest: String,
        /// The kind built.
        built: &'static str,
        /// The world built.
        world: &'static str,
    },
}

/// What a component did with a `ferry plugin test` input.
#[derive(Debug)]
pub enum Trial {
    /// A parser on a file: the dry run's columns, first rows, diagnostics and verdict.
    Parsed(Box<DryRun>),
    /// A source on a directory: the objects it listed, and the first bytes of the first one.
    Listed {
        /// Every object listed under the empty prefix.
        objects: Vec<ObjectInfo>,
        /// The first 256 bytes of the first object.
        head: Option<Vec<u8>>,
    },
    /// A predictor on JSON rows: its output rows.
    Predicted(Vec<Map<String, Value>>),
}

/// A `ferry plugin test` input: a file (parser), directory (source) or JSON rows (predictor).
#[derive(Debug, Clone)]
pub struct TrialInput {
    /// The file, directory or JSON rows.
    pub input: PathBuf,
    /// The plugin's settings (`--setting k=v`).
    pub settings: Vec<(String, String)>,
    /// A predictor's model directory, mounted read-only at `/model`.
    pub model: Option<PathBuf>,
}

impl App {
    /// What the component at `path` is (see [`Inspection`]); it is compiled into the cache.
    pub async fn inspect_plugin(&self, path: &Path) -> Result<Inspection, PluginError> {
        self.plugin_host().inspect(path).await
    }

    /// Runs the project's toolchain in `dir`, then checks the component: its world, WIT
    /// version and imports, and that it is the kind its manifest says.
    pub async fn build_plugin(
        &self,
        dir: &Path,
        sdk_base: &Path,
    ) -> Result<(Manifest, Inspection), BuildError> {
        let sdk = Sdk::ensure(sdk_base)?;
        let (manifest, wasm) = kit::build(dir, &sdk)?;
        let inspection =
            self.inspect_plugin(&wasm)
                .await
                .map_err(|source| BuildError::Refused {
                    path: wasm.clone(),
                    source,
                })?;
        if inspection.kind.name() != manifest.kind {
            return Err(BuildError::WrongKind {
                path: wasm,
                manifest: manifest.kind.clone(),
                built: inspection.kind.name(),
                world: inspection.world,
            });
        }
        Ok((manifest, inspection))
    }

    /// Runs the component at `path` on `trial`'s input, as a workflow step would (same limits,
    /// nothing granted but the input).
    pub async fn try_plugin(&self, path: &Path, trial: &TrialInput) -> Result<Trial, EngineError> {
        let inspection = self.inspect_plugin(path).await?;
        match inspection.kind {
            PluginKind::Parser => self.try_parser(path, trial).await.map(|dry| Trial::Parsed(Box::new(dry))),
            PluginKind::Source => self.try_source(path, trial).await,
            PluginKind::Predictor => self.try_predictor(path, trial).await,
            PluginKind::Deployer => Err(EngineError::NoSuchObject(
                "a deployer is tried by deploying: `ferry infras apply` and `ferry deployments create` against a test infra".into(),
            )),
        }
    }

    /// A parser runs through a one-step workflow written for it: source-local on the input's
    /// directory, this parser with the given settings, no mapping; a dry run writes nothing.
    async fn try_parser(&self, path: &Path, trial: &TrialInput) -> Result<DryRun, EngineError> {
        let input = std::path::absolute(&trial.input).map_err(|e| missing(&trial.input, e))?;
        if !input.is_file() {
            return Err(EngineError::NoSuchObject(format!(
                "{} is not a file (a parser is tried on one file)",
                input.display()
            )));
        }
        let dir = input.parent().unwrap_or(Path::new("/")).to_owned();
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let settings: Vec<String> = trial
            .settings
            .iter()
            .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
            .collect();
        let plugin = std::path::absolute(path).map_err(|e| missing(path, e))?;
        let text = format!(
            "name = \"plugin-test\"\n\n[plugins]\nplugin-under-test = {}\n\n[[steps]]\nname = \"import\"\nkind = \"import\"\nsource = \"source-local\"\nsource_settings = {{ root = \"/input\" }}\ngrants.dirs = [{{ path = {}, mount = \"/input\" }}]\nglob = {}\nparser = \"plugin-under-test\"\nparser_settings = {{ {} }}\n\n[[steps]]\nname = \"ingest\"\nkind = \"ingest\"\ninput = \"import\"\ntable = \"plugin_test\"\n",
            quote(&plugin.display().to_string()),
            quote(&dir.display().to_string()),
            quote(&name),
            settings.join(", "),
        );
        let workflow = Workflow::parse(&dir.join("(plugin test).toml"), &text)?;
        let engine = Engine::new(self.ctx());
        let prepared = engine.prepare(&workflow)?;
        engine.dry_run(&prepared, Some(&name)).await
    }

    async fn try_source(&self, path: &Path, trial: &TrialInput) -> Result<Trial, EngineError> {
        let dir = std::path::absolute(&trial.input).map_err(|e| missing(&trial.input, e))?;
        if !dir.is_dir() {
            return Err(EngineError::NoSuchObject(format!(
                "{} is not a directory (a source is tried on a directory, mounted at /input)",
                dir.display()
            )));
        }
        let plugin = self
            .plugin_host()
            .load("plugin-under-test", path, PluginKind::Source)?;
        let options = trial_options(
            trial,
            vec![DirAccess {
                host: dir,
                mount: "/input".into(),
                write: false,
            }],
        );
        let mut source = self.plugin_host().source(&plugin, &options).await?;
        let objects = source.list_all("").await?;
        let head = match objects.first() {
            Some(first) => Some(source.read(&first.key, 0, 256).await?),
            None => None,
        };
        Ok(Trial::Listed { objects, head })
    }

    async fn try_predictor(&self, path: &Path, trial: &TrialInput) -> Result<Trial, EngineError> {
        // Rows for a try are few: a file larger than a request body is refused unread.
        let size = std::fs::metadata(&trial.input)
            .map_err(|e| missing(&trial.input, e))?
            .len();
        if size > MAX_TRIAL_ROWS {
            return Err(EngineError::NoSuchObject(format!(
                "{}: {size} bytes of rows; a predictor is tried on at most {MAX_TRIAL_ROWS} bytes",
                trial.input.display()
            )));
        }
        let text = std::fs::read(&trial.input).map_err(|e| missing(&trial.input, e))?;
        // A JSON array of rows, or an API node's request body, `{"rows": [...]}`.
        let expected = |e: String| {
            EngineError::NoSuchObject(format!(
                "{}: expected a JSON array of row objects, or {{\"rows\": [...]}}: {e}",
                trial.input.display()
            ))
        };
        let rows: Vec<Value> =
            match serde_json::from_slice(&text).map_err(|e| expected(e.to_string()))? {
                Value::Array(rows) => rows,
                Value::Object(mut body) => match body.remove("rows") {
                    Some(Value::Array(rows)) => rows,
                    _ => return Err(expected("no `rows` array".into())),
                },
                _ => return Err(expected("neither an array nor an object".into())),
            };
        let bad = |e: arrow::error::ArrowError| {
            EngineError::NoSuchObject(format!("{}: {e}", trial.input.display()))
        };
        let schema = arrow::json::reader::infer_json_schema_from_iterator(rows.iter().map(Ok))
            .map_err(bad)?;
        let schema = std::sync::Arc::new(schema);
        let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
            .build_decoder()
            .map_err(bad)?;
        decoder.serialize(&rows).map_err(bad)?;
        let batch = decoder
            .flush()
            .map_err(bad)?
            .unwrap_or_else(|| RecordBatch::new_empty(schema));
        let plugin = self
            .plugin_host()
            .load("plugin-under-test", path, PluginKind::Predictor)?;
        let dirs = trial
            .model
            .iter()
            .map(|m| DirAccess {
                host: std::path::absolute(m).unwrap_or_else(|_| m.clone()),
                mount: "/model".into(),
                write: false,
            })
            .collect();
        let options = trial_options(trial, dirs);
        let mut predictor = self.plugin_host().predictor(&plugin, &options).await?;
        let output = predictor.predict(&batch).await?;
        Ok(Trial::Predicted(crate::engine::json_rows(&[output])))
    }

    /// Runs the workflow's `[[tests]]` through its real plugins and mapping. Nothing is
    /// written: no table, no job.
    pub async fn run_tests(&self, workflow: &Workflow) -> Result<Vec<TestReport>, EngineError> {
        let engine = Engine::new(self.ctx());
        let prepared = engine.prepare(workflow)?;
        engine.run_tests(&prepared).await
    }
}

/// The most JSON a predictor is tried on (`ferry plugin test --input rows.json`).
const MAX_TRIAL_ROWS: u64 = 64 << 20;

/// The WIT version this ferry writes projects for.
pub const PLUGIN_WIT_VERSION: &str = WIT_VERSION;

fn trial_options(trial: &TrialInput, dirs: Vec<DirAccess>) -> InstanceOptions {
    InstanceOptions {
        step: "plugin-test".into(),
        sandbox: Sandbox {
            dirs,
            settings: trial.settings.iter().cloned().collect(),
            ..Sandbox::default()
        },
        limits: CallLimits::default(),
        cancel: CancelToken::default(),
    }
}

fn missing(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::NoSuchObject(format!("{}: {e}", path.display()))
}
