//! `ferry plugin new KIND NAME`: a ready project from an embedded template, with the WIT
//! package beside it and a path dependency on the SDK copy.

use std::path::{Path, PathBuf};

use super::error::KitError;
use super::files;
use super::manifest::{Language, MANIFEST, Manifest};
use super::sdk::Sdk;

/// What `new_project` wrote.
#[derive(Debug)]
pub struct NewProject {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub sdk: Sdk,
    /// Every file written, relative to `dir`.
    pub files: Vec<String>,
}

/// The world a kind's plugins implement.
fn world(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "source" => "source-plugin",
        "parser" => "parser-plugin",
        "predictor" => "predictor-plugin",
        "deployer" => "deployer-plugin",
        _ => return None,
    })
}

/// A plugin name that is also a crate name, a Python module (with `_`) and a `[plugins]` key:
/// ferry's one name rule (it becomes the project's directory), narrowed to what cargo and
/// Python accept.
fn check_name(name: &str) -> Result<(), String> {
    crate::paths::check(crate::paths::NameKind::Plugin, name).map_err(|e| e.to_string())?;
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a plugin name: use lowercase letters, digits and `-`, starting with a letter (e.g. `my-parser`)"
        ))
    }
}

/// Module names a Python plugin's own module must not take: the component's entry and
/// interface modules, the SDK, the bindings, and standard modules they import.
const PYTHON_TAKEN: &[&str] = &[
    "app",
    "about",
    "parser",
    "predictor",
    "source",
    "deployer",
    "ferry_guest",
    "wit_world",
    "json",
    "math",
    "typing",
    "os",
    "sys",
    "io",
    "re",
    "array",
    "struct",
    "traceback",
    "datetime",
    "decimal",
    "collections",
    "string",
    "types",
    "test",
    "unittest",
];

/// Writes a new `lang` project for a `kind` plugin named `name` into `dir` (which must not
/// exist), with the SDK written under `sdk_base` if this version is not there yet.
pub fn new_project(
    kind: &str,
    name: &str,
    lang: Language,
    dir: &Path,
    sdk_base: &Path,
    wit_version: &str,
) -> Result<NewProject, KitError> {
    let manifest_error = |message: String| KitError::Manifest {
        path: dir.to_owned(),
        message,
    };
    let world = world(kind).ok_or_else(|| {
        manifest_error(format!(
            "unknown plugin kind `{kind}`: one of source, parser, predictor, deployer"
        ))
    })?;
    check_name(name).map_err(manifest_error)?;
    if lang == Language::Python && PYTHON_TAKEN.contains(&name.replace('-', "_").as_str()) {
        return Err(manifest_error(format!(
            "`{name}` would be a Python module that shadows one the plugin needs; choose another name (e.g. `my-{name}`)"
        )));
    }
    let prefix = format!("templates/{}/{kind}", lang.name());
    let template: Vec<(&str, &[u8])> = files::tree(&prefix).collect();
    if template.is_empty() {
        return Err(KitError::NoTemplate {
            kind: kind.to_owned(),
            lang: lang.name(),
            available: available(),
        });
    }
    if dir.exists() {
        return Err(KitError::Exists(dir.to_owned()));
    }
    let sdk = Sdk::ensure(sdk_base)?;
    let manifest = Manifest {
        name: name.to_owned(),
        kind: kind.to_owned(),
        language: lang,
        world: world.to_owned(),
        wit: wit_version.to_owned(),
    };
    let module = manifest.module();
    let sdk_crate = sdk.rust_crate().display().to_string();
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{module}}", &module)
            .replace("{{sdk}}", &sdk_crate)
            .replace("{{wit_version}}", wit_version)
    };
    let mut written = Vec::new();
    let mut put = |rel: String, bytes: &[u8]| -> Result<(), KitError> {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| KitError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        std::fs::write(&path, bytes).map_err(|source| KitError::Io { path, source })?;
        written.push(rel);
        Ok(())
    };
    for (rel, bytes) in template {
        // Placeholders may name files too (`test_{{module}}.py`).
        let rel = fill(rel);
        match std::str::from_utf8(bytes) {
            Ok(text) => put(rel, fill(text).as_bytes())?,
            Err(_) => put(rel, bytes)?,
        }
    }
    for (rel, bytes) in files::tree("wit") {
        put(format!("wit/{rel}"), bytes)?;
    }
    match lang {
        Language::Rust => {
            // ferry's own plugins' lock file: the project builds with the versions they are
            // tested with (cargo drops what the project does not use).
            put(
                "Cargo.lock".into(),
                files::file("sdk/rust/Cargo.lock").expect("embedded"),
            )?;
            put(".gitignore".into(), b"/target\n/build\n")?;
        }
        Language::Python => put(".gitignore".into(), b"/build\n__pycache__/\n")?,
    }
    let text = toml::to_string(&manifest).expect("a manifest serializes");
    put(
        MANIFEST.into(),
        format!("# Written by `ferry plugin new`; `ferry plugin build` reads it.\n{text}")
            .as_bytes(),
    )?;
    Ok(NewProject {
        dir: std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()),
        manifest,
        sdk,
        files: written,
    })
}

/// `rust parser, python parser, …`: the templates this ferry carries.
fn available() -> String {
    let mut pairs: Vec<String> = files::tree("templates")
        .filter_map(|(rel, _)| {
            let mut parts = rel.split('/');
            let lang = parts.next()?;
            let kind = parts.next()?;
            (lang != "sdk").then(|| format!("{lang} {kind}"))
        })
        .collect();
    pairs.dedup();
    pairs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_parser_project_is_complete_and_filled_in() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        let made = new_project(
            "parser",
            "my-parser",
            Language::Rust,
            &project,
            &dir.path().join("sdk"),
            "0.2.0",
        )
        .unwrap();
        let cargo = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
        assert!(cargo.contains("name = \"my-parser\""));
        assert!(cargo.contains(&made.sdk.rust_crate().display().to_string()));
        assert!(!cargo.contains("{{"));
        for file in [
            "src/lib.rs",
            "workflow.toml",
            "wit/parser.wit",
            "Cargo.lock",
            MANIFEST,
        ] {
            assert!(project.join(file).is_file(), "{file}");
        }
        let manifest = Manifest::read(&project).unwrap();
        assert_eq!(
            (manifest.kind.as_str(), manifest.world.as_str()),
            ("parser", "parser-plugin")
        );
        assert!(matches!(
            new_project(
                "parser",
                "my-parser",
                Language::Rust,
                &project,
                &dir.path().join("sdk"),
                "0.2.0"
            ),
            Err(KitError::Exists(_))
        ));
    }

    #[test]
    fn every_template_fills_in_every_placeholder() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = dir.path().join("sdk");
        let mut made = 0;
        for lang in [Language::Rust, Language::Python] {
            for kind in ["source", "parser", "predictor", "deployer"] {
                let project = dir.path().join(format!("{}-{kind}", lang.name()));
                match new_project(kind, "my-plugin", lang, &project, &sdk, "0.2.0") {
                    Ok(p) => {
                        made += 1;
                        for file in &p.files {
                            let text =
                                std::fs::read_to_string(project.join(file)).unwrap_or_default();
                            assert!(!text.contains("{{"), "{} {kind}: {file}", lang.name());
                            assert!(!file.contains("{{"), "{file}");
                        }
                        let workflow =
                            std::fs::read_to_string(project.join("workflow.toml")).unwrap();
                        assert!(workflow.contains("[[tests]]"), "{} {kind}", lang.name());
                    }
                    Err(KitError::NoTemplate { .. }) => {}
                    Err(e) => panic!("{} {kind}: {e}", lang.name()),
                }
            }
        }
        assert_eq!(
            made, 7,
            "Rust: all four kinds; Python: parser, predictor, source"
        );
        let err = new_project(
            "deployer",
            "x",
            Language::Python,
            &dir.path().join("d"),
            &sdk,
            "0.2.0",
        )
        .unwrap_err();
        assert!(err.to_string().contains("rust deployer"), "{err}");
    }

    #[test]
    fn bad_names_and_kinds_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sdk = dir.path().join("sdk");
        for (kind, name) in [("parser", "My_Parser"), ("parser", "../x"), ("sink", "ok")] {
            let err = new_project(
                kind,
                name,
                Language::Rust,
                &dir.path().join("p"),
                &sdk,
                "0.2.0",
            )
            .unwrap_err();
            assert!(
                matches!(err, KitError::Manifest { .. }),
                "{kind} {name}: {err}"
            );
        }
        assert!(!dir.path().join("p").exists());
    }
}
