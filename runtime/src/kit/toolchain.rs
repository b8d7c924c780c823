//! `ferry plugin build`: runs the project's own toolchain, its output shown as it comes, and
//! finds the component it wrote. What the component is gets checked by the caller.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::KitError;
use super::manifest::{Language, Manifest};
use super::sdk::Sdk;

/// The componentize-py ferry's tests and docs use (PyPI).
pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// Builds the project in `dir`; returns its manifest and the component, which is always
/// `build/<module>.wasm` in the project (cargo's own output is copied there, wherever
/// `CARGO_TARGET_DIR` points), so the project's workflow can name it.
pub fn build(dir: &Path, sdk: &Sdk) -> Result<(Manifest, PathBuf), KitError> {
    let manifest = Manifest::read(dir)?;
    let wasm = match manifest.language {
        Language::Rust => {
            let built = cargo(dir)?;
            let out = dir
                .join("build")
                .join(format!("{}.wasm", manifest.module()));
            let io = |path: &Path| {
                let path = path.to_owned();
                move |source| KitError::Io { path, source }
            };
            std::fs::create_dir_all(dir.join("build")).map_err(io(&dir.join("build")))?;
            std::fs::copy(&built, &out).map_err(io(&out))?;
            out
        }
        Language::Python => componentize(dir, &manifest, sdk)?,
    };
    Ok((manifest, std::path::absolute(&wasm).unwrap_or(wasm)))
}

fn cargo(dir: &Path) -> Result<PathBuf, KitError> {
    let program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = [
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        "--message-format=json-render-diagnostics",
    ];
    let mut child = Command::new(&program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| KitError::Toolchain {
            program: program.clone(),
            hint: " (install Rust with rustup, then `rustup target add wasm32-wasip2`)".into(),
            source,
        })?;
    // Compiler messages arrive rendered on stdout in this mode: pass them on to stderr as they
    // come, which keeps stdout for ferry's own report (`--json`).
    let mut artifact = None;
    let stdout = child.stdout.take().expect("piped");
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            eprintln!("{line}");
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-message") => {
                if let Some(text) = message["message"]["rendered"].as_str() {
                    eprint!("{text}");
                }
            }
            Some("compiler-artifact")
                if message["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "cdylib")) =>
            {
                let wasm = message["filenames"].as_array().and_then(|files| {
                    files
                        .iter()
                        .filter_map(|f| f.as_str())
                        .find(|f| f.ends_with(".wasm"))
                        .map(PathBuf::from)
                });
                if wasm.is_some() {
                    artifact = wasm;
                }
            }
            _ => {}
        }
    }
    let status = child.wait().map_err(|source| KitError::Toolchain {
        program: program.clone(),
        hint: String::new(),
        source,
    })?;
    if !status.success() {
        return Err(KitError::BuildFailed {
            command: format!("{program} {}", args.join(" ")),
            status: status.to_string(),
        });
    }
    artifact.ok_or_else(|| {
        KitError::NoArtifact(
            "cargo built no cdylib; is `crate-type = [\"cdylib\"]` in Cargo.toml?".into(),
        )
    })
}

fn componentize(dir: &Path, manifest: &Manifest, sdk: &Sdk) -> Result<PathBuf, KitError> {
    let program =
        std::env::var("FERRY_COMPONENTIZE_PY").unwrap_or_else(|_| "componentize-py".into());
    let out = PathBuf::from("build").join(format!("{}.wasm", manifest.module()));
    std::fs::create_dir_all(dir.join("build")).map_err(|source| KitError::Io {
        path: dir.join("build"),
        source,
    })?;
    let python_path = sdk.python_path().display().to_string();
    let out_text = out.display().to_string();
    let args = [
        "-d",
        "wit",
        "-w",
        manifest.world.as_str(),
        "componentize",
        "app",
        "-p",
        ".",
        "-p",
        python_path.as_str(),
        "-o",
        out_text.as_str(),
    ];
    let status = Command::new(&program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        // Its progress goes to stderr: stdout is ferry's report (`--json`).
        .stdout(std::io::stderr())
        .status()
        .map_err(|source| KitError::Toolchain {
            program: program.clone(),
            hint: format!(
                " (install it with `pip install {COMPONENTIZE_PY}`, or set FERRY_COMPONENTIZE_PY)"
            ),
            source,
        })?;
    if !status.success() {
        return Err(KitError::BuildFailed {
            command: format!("{program} {}", args.join(" ")),
            status: status.to_string(),
        });
    }
    let wasm = dir.join(out);
    if wasm.is_file() {
        Ok(wasm)
    } else {
        Err(KitError::NoArtifact(format!(
            "componentize-py wrote no {}",
            wasm.display()
        )))
    }
}
