//! `ferry plugin …` (author, build, inspect and try plugins) and `ferry test` (a workflow's
//! `[[tests]]`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::{exit, print};
use crate::app::{App, PLUGIN_WIT_VERSION, Trial, TrialInput};
use crate::engine::{EngineError, TestReport};
use crate::host::{Inspection, SettingType};
use crate::kit::{self, Language, Sdk};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Source,
    Parser,
    Predictor,
    Deployer,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Lang {
    Rust,
    Python,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Write a new plugin project: the WIT package, a working plugin, a sample input, a
    /// workflow that uses it with `[[tests]]`, and unit tests.
    New {
        #[arg(value_enum)]
        kind: Kind,
        /// The plugin's name: lowercase letters, digits and `-` (`my-parser`).
        name: String,
        #[arg(long, value_enum, default_value = "rust")]
        lang: Lang,
        /// The project directory (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Where SDK copies are kept (default: $FERRY_SDK_DIR, else ~/.local/share/ferry/sdk).
        #[arg(long, value_name = "DIR")]
        sdk_dir: Option<PathBuf>,
    },
    /// Write this ferry's SDK (WIT, Rust crate, Python module) and print where it is.
    Sdk {
        #[arg(long, value_name = "DIR")]
        sdk_dir: Option<PathBuf>,
    },
    /// Build the project (cargo or componentize-py) and check the component it produced.
    Build {
        /// The project directory (default: the current one).
        dir: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        sdk_dir: Option<PathBuf>,
    },
    /// What a component is: kind, world, WIT version, settings, imports, digest.
    Inspect { file: PathBuf },
    /// The settings tables of components as Markdown, from what each describes (the README's
    /// built-in plugin settings are this output: `scripts/plugin-docs`).
    Docs {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run a component on an input under a workflow's limits: a parser on a file, a source on
    /// a directory, a predictor on a JSON array of rows.
    Test {
        file: PathBuf,
        #[arg(long)]
        input: PathBuf,
        /// A plugin setting, as text (`--setting delimiter=;`); repeatable.
        #[arg(long = "setting", value_name = "K=V", value_parser = parse_setting)]
        settings: Vec<(String, String)>,
        /// A predictor's model directory, mounted read-only at /model.
        #[arg(long)]
        model: Option<PathBuf>,
    },
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not KEY=VALUE"))
}

fn sdk_root(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(kit::default_sdk_root)
}

/// Commands that need no state directory.
pub fn plugin_offline(command: &PluginCommand, json_out: bool) -> Option<ExitCode> {
    match command {
        PluginCommand::New {
            kind,
            name,
            lang,
            dir,
            sdk_dir,
        } => {
            let kind = kind_name(*kind);
            let lang = match lang {
                Lang::Rust => Language::Rust,
                Lang::Python => Language::Python,
            };
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from(name));
            let made = kit::new_project(
                kind,
                name,
                lang,
                &dir,
                &sdk_root(sdk_dir.clone()),
                PLUGIN_WIT_VERSION,
            );
            Some(match made {
                Ok(p) => {
                    if json_out {
                        print::json(&json!({
                            "dir": p.dir, "name": p.manifest.name, "kind": p.manifest.kind,
                            "language": lang.name(), "world": p.manifest.world,
                            "sdk": p.sdk.root, "files": p.files,
                        }));
                    } else {
                        println!(
                            "created {} plugin `{}` ({}) in {}",
                            p.manifest.kind,
                            p.manifest.name,
                            lang.name(),
                            p.dir.display()
                        );
                        println!("  SDK {} at {}", p.sdk.version, p.sdk.root.display());
                        println!("next:");
                        println!("  cd {}", dir.display());
                        println!("  ferry plugin build");
                        println!("  ferry test workflow.toml");
                        println!("  ferry run workflow.toml");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(exit::CONFIG)
                }
            })
        }
        PluginCommand::Sdk { sdk_dir } => Some(match Sdk::ensure(&sdk_root(sdk_dir.clone())) {
            Ok(sdk) => {
                if json_out {
                    print::json(&json!({
                        "version": sdk.version, "root": sdk.root,
                        "rustCrate": sdk.rust_crate(), "pythonPath": sdk.python_path(),
                        "wit": sdk.root.join("wit"),
                    }));
                } else {
                    println!("ferry SDK {} at {}", sdk.version, sdk.root.display());
                    println!(
                        "  rust:   ferry-guest = {{ path = \"{}\" }}",
                        sdk.rust_crate().display()
                    );
                    println!(
                        "  python: componentize-py … componentize app -p {}",
                        sdk.python_path().display()
                    );
                    println!("  wit:    {}", sdk.root.join("wit").display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(exit::INTERNAL)
            }
        }),
        _ => None,
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Source => "source",
        Kind::Parser => "parser",
        Kind::Predictor => "predictor",
        Kind::Deployer => "deployer",
    }
}

pub async fn plugin(
    app: App,
    command: PluginCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    match command {
        PluginCommand::Build { dir, sdk_dir } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            match app.build_plugin(&dir, &sdk_root(sdk_dir)).await {
                Ok((_, inspection)) => {
                    if json_out {
                        print::json(&inspection_json(&inspection));
                    } else {
                        println!("built {}", inspection.path.display());
                        print_inspection(&inspection);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(exit::JOB_FAILED))
                }
            }
        }
        PluginCommand::Inspect { file } => {
            let inspection = app.inspect_plugin(&file).await?;
            if json_out {
                print::json(&inspection_json(&inspection));
            } else {
                print_inspection(&inspection);
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Docs { files } => {
            let mut inspections = Vec::new();
            for file in &files {
                inspections.push(app.inspect_plugin(file).await?);
            }
            inspections.sort_by_key(|i| i.description.as_ref().map(|d| d.name.clone()));
            print!("{}", settings_markdown(&inspections));
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Test {
            file,
            input,
            settings,
            model,
        } => {
            let trial = TrialInput {
                input,
                settings,
                model,
            };
            let outcome = app.try_plugin(&file, &trial).await?;
            Ok(print_trial(outcome, json_out))
        }
        PluginCommand::New { .. } | PluginCommand::Sdk { .. } => {
            Ok(plugin_offline(&command, json_out).expect("handled offline"))
        }
    }
}

fn setting_type(ty: SettingType) -> &'static str {
    match ty {
        SettingType::String => "string",
        SettingType::Boolean => "boolean",
        SettingType::Integer => "integer",
        SettingType::Number => "number",
        SettingType::Character => "character",
        SettingType::Table => "table",
        SettingType::Array => "array",
    }
}

/// What the plugin may ask of a step, by what it imports. Nothing is granted by default.
fn needs(imports: &[String]) -> Vec<&'static str> {
    let has = |prefix: &str| imports.iter().any(|i| i.starts_with(prefix));
    let mut needs = Vec::new();
    if has("wasi:http/outgoing-handler") {
        needs.push("hosts: reaches only the hosts a step grants (grants.hosts)");
    }
    if has("wasi:filesystem/") {
        needs.push(
            "dirs: sees only the directories a step grants (grants.dirs; a predictor's /model)",
        );
    }
    if has("ferry:plugin/object") {
        needs.push("object: reads the one object it is parsing (byte ranges)");
    }
    needs
}

/// The line that pins this file: a `[plugins]` entry, or for a deployer the infra's
/// `deployer` key.
fn pin_line(inspection: &Inspection) -> String {
    if inspection.kind == crate::host::PluginKind::Deployer {
        return format!(
            "deployer = {{ path = {}, sha256 = \"{}\" }}",
            toml::Value::String(inspection.path.display().to_string()),
            inspection.sha256
        );
    }
    let name = inspection
        .description
        .as_ref()
        .map(|d| d.name.clone())
        .unwrap_or_else(|| "my-plugin".into());
    format!(
        "{name} = {{ path = {}, sha256 = \"{}\" }}",
        toml::Value::String(inspection.path.display().to_string()),
        inspection.sha256
    )
}

fn inspection_json(i: &Inspection) -> Value {
    json!({
        "path": i.path,
        "kind": i.kind.name(),
        "world": i.world,
        "witVersion": i.wit_version,
        "name": i.description.as_ref().map(|d| d.name.clone()),
        "version": i.description.as_ref().map(|d| d.version.clone()),
        "summary": i.description.as_ref().map(|d| d.summary.clone()),
        "settings": i.description.as_ref().map(|d| d.settings.iter().map(|s| json!({
            "name": s.name, "type": setting_type(s.type_), "required": s.required,
            "default": s.default, "doc": s.doc,
        })).collect::<Vec<_>>()),
        "imports": i.imports,
        "needs": needs(&i.imports),
        "size": i.size,
        "sha256": i.sha256,
        "cached": i.cached,
        "pin": pin_line(i),
    })
}

fn print_inspection(i: &Inspection) {
    if let Some(d) = &i.description {
        println!("{} {} — {}", d.name, d.version, d.summary);
    }
    println!("  kind      {}", i.kind.name());
    println!("  world     ferry:plugin/{}@{}", i.world, i.wit_version);
    println!("  size      {} bytes", i.size);
    println!("  sha256    {}", i.sha256);
    println!(
        "  cached    {}",
        if i.cached {
            "yes (compiled before)"
        } else {
            "no (compiled now)"
        }
    );
    match &i.description {
        Some(d) if !d.settings.is_empty() => {
            println!("  settings");
            for s in &d.settings {
                let need = match (&s.default, s.required) {
                    (_, true) => "required".to_owned(),
                    (Some(d), _) => format!("default {d}"),
                    (None, false) => "optional".to_owned(),
                };
                println!(
                    "    {:<18} {:<10} {:<16} {}",
                    s.name,
                    setting_type(s.type_),
                    need,
                    s.doc
                );
            }
        }
        Some(_) => println!("  settings  none"),
        None => println!("  settings  (a 0.1 plugin cannot describe them)"),
    }
    let needs = needs(&i.imports);
    if needs.is_empty() {
        println!("  needs     nothing beyond its input");
    } else {
        for (n, need) in needs.iter().enumerate() {
            println!(
                "  {} {need}",
                if n == 0 { "needs    " } else { "         " }
            );
        }
    }
    println!("  imports   {}", i.imports.join(", "));
    if i.kind == crate::host::PluginKind::Deployer {
        println!(
            "use it in an infra ([infras.NAME] of `ferry infras apply`):\n  {}",
            pin_line(i)
        );
    } else {
        println!("pin it in a workflow:\n  [plugins]\n  {}", pin_line(i));
    }
}

/// One section per plugin: its summary, then its settings as a table.
fn settings_markdown(inspections: &[Inspection]) -> String {
    // `<region>` would be taken for an HTML tag.
    let cell = |text: &str| {
        text.replace('|', "\\|")
            .replace('\n', " ")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = String::new();
    for i in inspections {
        let Some(d) = &i.description else { continue };
        out.push_str(&format!(
            "#### `{}` ({})\n\n{}\n\n",
            d.name,
            i.world,
            cell(&d.summary)
        ));
        if d.settings.is_empty() {
            out.push_str("No settings.\n\n");
            continue;
        }
        out.push_str("| setting | type | default | |\n|---|---|---|---|\n");
        for s in &d.settings {
            let default = match (&s.default, s.required) {
                (_, true) => "required".to_owned(),
                (Some(d), _) => format!("`{}`", cell(d)),
                (None, false) => "—".to_owned(),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                s.name,
                setting_type(s.type_),
                default,
                cell(&s.doc)
            ));
        }
        out.push('\n');
    }
    out
}

fn print_trial(trial: Trial, json_out: bool) -> ExitCode {
    match trial {
        Trial::Parsed(dry) => {
            let failed = dry.validation_result.error.is_some();
            if json_out {
                print::json(&dry);
            } else {
                print::dry_run(&dry);
            }
            if failed {
                ExitCode::from(exit::DATA)
            } else {
                ExitCode::SUCCESS
            }
        }
        Trial::Listed { objects, head } => {
            if json_out {
                print::json(&json!({
                    "objects": objects.iter().map(|o| json!({"key": o.key, "size": o.size, "etag": o.etag, "lastModified": o.last_modified})).collect::<Vec<_>>(),
                    "head": head.as_ref().map(|h| String::from_utf8_lossy(h).into_owned()),
                }));
            } else {
                println!("{} objects", objects.len());
                for o in objects.iter().take(20) {
                    println!("  {:<40} {:>10} bytes", o.key, o.size);
                }
                if let (Some(first), Some(head)) = (objects.first(), head) {
                    println!(
                        "first bytes of {}:\n{}",
                        first.key,
                        String::from_utf8_lossy(&head)
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Trial::Predicted(rows) => {
            if json_out {
                print::json(&json!({ "results": rows }));
            } else {
                for row in &rows {
                    println!("{}", Value::Object(row.clone()));
                }
            }
            ExitCode::SUCCESS
        }
    }
}

/// `ferry test WORKFLOW…`: exit 0 when every test passes, 1 when one fails.
pub async fn test(app: App, files: Vec<PathBuf>, json_out: bool) -> Result<ExitCode, EngineError> {
    let mut all: Vec<(PathBuf, Vec<TestReport>)> = Vec::new();
    for file in files {
        let workflow = app.load_workflow(&file, &Default::default()).await?;
        if workflow.tests.is_empty() {
            eprintln!("{}: no [[tests]]", file.display());
        }
        let reports = app.run_tests(&workflow).await?;
        all.push((file, reports));
    }
    let failed = all
        .iter()
        .flat_map(|(_, r)| r)
        .filter(|r| !r.passed)
        .count();
    let total: usize = all.iter().map(|(_, r)| r.len()).sum();
    if json_out {
        print::json(&json!({
            "passed": total - failed, "failed": failed,
            "workflows": all.iter().map(|(f, r)| json!({"file": f, "tests": r})).collect::<Vec<_>>(),
        }));
    } else {
        for (file, reports) in &all {
            for r in reports {
                println!(
                    "{} {} :: {}",
                    if r.passed { "ok  " } else { "FAIL" },
                    display(file),
                    r.name
                );
                for f in &r.failures {
                    println!("       {f}");
                }
                for line in &r.diff {
                    println!("         {line}");
                }
            }
        }
        println!("{} passed, {failed} failed", total - failed);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::JOB_FAILED)
    })
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
