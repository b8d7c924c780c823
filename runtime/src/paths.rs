//! Names and paths that come from outside — a manifest, a zip entry, a request, a workflow — and
//! end up naming a file. One rule for each shape, in one place, so no corner of ferry can be
//! talked into writing, reading or deleting outside the directory it owns.
//!
//! - A **name** (a workflow, table, service, version, infra, deployment, key, endpoint) is one
//!   path component: 1–128 ASCII letters, digits, `-`, `_` and `.`, not starting with `.`.
//!   So `..`, `/srv/x`, `a/b`, hidden files and names no file system can hold are refused.
//! - A **relative path** (an upload's name, an entry of a package zip) is `/`-separated plain
//!   components: no root, no `.` or `..`, no empty component (`a//b`), no trailing `/`, no `\`,
//!   no NUL or control characters, each component at most 255 bytes and the whole 1024.
//!
//! [`child`] is the one function that turns such a name into a path under a root; [`check`]
//! applies the same rule where a name is only stored (an API key's name). [`confine`] is the
//! other half for paths a user may write in full (a workflow's grants when `ferry serve` runs
//! it): the canonical path, symlinks resolved, must lie inside one of the allowed roots.

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// Longest name.
pub const MAX_NAME: usize = 128;
/// Longest component of a relative path (what Linux file systems hold).
pub const MAX_COMPONENT: usize = 255;
/// Longest relative path.
pub const MAX_PATH: usize = 1024;

/// What a name names: it decides the rule (name or relative path) and the wording of errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Workflow,
    Table,
    Service,
    Version,
    Infra,
    Deployment,
    Key,
    Endpoint,
    /// A plugin project's name (`ferry plugin new`), also its directory.
    Plugin,
    /// A credential a workflow declares, as the secret store names it.
    Credential,
    /// A project variable (`${name}` in workflows).
    Variable,
    /// An export's id (its zip is `<home>/exports/<id>.zip`).
    Export,
    /// An import's id (its zip and journal are in `<home>/imports/<id>/`).
    Import,
    /// A file in the upload area (a relative path).
    Upload,
    /// A file inside a package (a relative path).
    Entry,
}

impl NameKind {
    fn is_path(self) -> bool {
        matches!(self, NameKind::Upload | NameKind::Entry)
    }

    fn noun(self) -> &'static str {
        match self {
            NameKind::Workflow => "workflow name",
            NameKind::Table => "table name",
            NameKind::Service => "service id",
            NameKind::Version => "version",
            NameKind::Infra => "infra name",
            NameKind::Deployment => "deployment id",
            NameKind::Key => "key name",
            NameKind::Endpoint => "endpoint name",
            NameKind::Plugin => "plugin name",
            NameKind::Credential => "credential name",
            NameKind::Variable => "variable name",
            NameKind::Export => "export id",
            NameKind::Import => "import id",
            NameKind::Upload => "upload name",
            NameKind::Entry => "zip entry",
        }
    }
}

/// Why a name or path was refused. Shows the name escaped and cut short, so a NUL byte or a
/// 300-character name makes a readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {}: {}", .kind.noun(), shown(.name), .reason)]
pub struct NameError {
    pub kind: NameKind,
    pub name: String,
    pub reason: String,
}

fn shown(name: &str) -> String {
    let mut text: String = name.escape_debug().collect();
    if text.chars().count() > 64 {
        text = text.chars().take(60).collect::<String>() + "…";
    }
    format!("`{text}`")
}

const NAME_RULE: &str = "use 1–128 letters, digits, `-`, `_` and `.`, not starting with `.`";

/// Checks `name` against the rule for its kind (see the module docs).
pub fn check(kind: NameKind, name: &str) -> Result<(), NameError> {
    let refuse = |reason: String| {
        Err(NameError {
            kind,
            name: name.to_owned(),
            reason,
        })
    };
    if kind.is_path() {
        if name.is_empty() {
            return refuse("must not be empty".into());
        }
        if name.len() > MAX_PATH {
            return refuse(format!("is longer than {MAX_PATH} bytes"));
        }
        if name.starts_with('/') {
            return refuse("must be relative, not start with `/`".into());
        }
        if name.ends_with('/') {
            return refuse("must name a file, not end with `/`".into());
        }
        if let Some(c) = name.chars().find(|c| c.is_control() || *c == '\\') {
            return refuse(format!("must not contain {}", shown(&c.to_string())));
        }
        for part in name.split('/') {
            match part {
                "" => return refuse("must not contain an empty component (`//`)".into()),
                "." | ".." => return refuse(format!("must not contain a `{part}` component")),
                p if p.len() > MAX_COMPONENT => {
                    return refuse(format!("has a component longer than {MAX_COMPONENT} bytes"));
                }
                _ => {}
            }
        }
        return Ok(());
    }
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        refuse(NAME_RULE.into())
    }
}

/// `root/name` (plus `suffix`, such as `.zip`), once `name` passed [`check`]: the only way a
/// name from outside becomes a path. The result is always strictly inside `root`.
pub fn child(root: &Path, kind: NameKind, name: &str, suffix: &str) -> Result<PathBuf, NameError> {
    check(kind, name)?;
    let path = root.join(format!("{name}{suffix}"));
    debug_assert!(
        path.strip_prefix(root)
            .is_ok_and(|rest| rest.components().all(|c| matches!(c, Component::Normal(_)))),
        "a checked name stays inside its root"
    );
    Ok(path)
}

/// Why a path a user wrote is not allowed.
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    #[error("`{path}` cannot be resolved: {source}")]
    Unresolvable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{path}` (resolved to {resolved}) is outside the directories this server allows: {roots}"
    )]
    Outside {
        path: PathBuf,
        resolved: PathBuf,
        roots: Roots,
    },
}

/// The directories a server lets workflows name (`grant_roots`), canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roots(Vec<PathBuf>);

impl Roots {
    /// Canonicalizes each root (creating it if missing, so a fresh home's `uploads/` works).
    pub fn new(roots: impl IntoIterator<Item = PathBuf>) -> std::io::Result<Roots> {
        let mut out = Vec::new();
        for root in roots {
            std::fs::create_dir_all(&root)?;
            out.push(std::fs::canonicalize(&root)?);
        }
        Ok(Roots(out))
    }

    pub fn as_slice(&self) -> &[PathBuf] {
        &self.0
    }
}

impl fmt::Display for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.0.iter().map(|r| r.display().to_string()).collect();
        write!(f, "{}", shown.join(", "))
    }
}

/// The canonical form of `path` (every symlink resolved), which must be one of `roots` or lie
/// below one. A path that does not exist cannot be confined and is refused.
pub fn confine(path: &Path, roots: &Roots) -> Result<PathBuf, ConfineError> {
    let resolved = std::fs::canonicalize(path).map_err(|source| ConfineError::Unresolvable {
        path: path.to_owned(),
        source,
    })?;
    if roots.0.iter().any(|root| resolved.starts_with(root)) {
        Ok(resolved)
    } else {
        Err(ConfineError::Outside {
            path: path.to_owned(),
            resolved,
            roots: roots.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "churn", "v1.2.3", "my_table-2", "A"] {
            assert!(check(NameKind::Service, ok).is_ok(), "{ok}");
        }
        let long = "x".repeat(MAX_NAME + 1);
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "/srv/x",
            "../../../victim",
            "a/b",
            "a b",
            "a\0b",
            &long,
            "ä",
        ] {
            assert!(check(NameKind::Version, bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            child(Path::new("/home"), NameKind::Service, "churn", ".zip").unwrap(),
            Path::new("/home/churn.zip")
        );
        let e = child(Path::new("/home"), NameKind::Service, "/srv/x", "").unwrap_err();
        assert!(
            e.to_string().starts_with("service id `/srv/x`: use 1–128"),
            "{e}"
        );
    }

    #[test]
    fn relative_paths() {
        for ok in [
            "a.csv",
            "in/b c.csv",
            "endpoints/e/model/model.json",
            ".x/y",
        ] {
            assert!(check(NameKind::Upload, ok).is_ok(), "{ok}");
        }
        let component = format!("{}.csv", "x".repeat(MAX_COMPONENT));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "./a",
            "x/./a.csv",
            "x//a.csv",
            "x/",
            "a\\b",
            "C:\\x",
            "a\0.csv",
            "new\nline",
            &component,
        ] {
            assert!(check(NameKind::Entry, bad).is_err(), "{bad:?}");
        }
        let e = check(NameKind::Upload, "a\0b").unwrap_err().to_string();
        assert!(
            e.contains("`a\\0b`") && e.contains("must not contain"),
            "{e}"
        );
    }

    #[test]
    fn confinement_resolves_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("uploads");
        let roots = Roots::new([root.clone()]).unwrap();
        std::fs::create_dir_all(root.join("in")).unwrap();
        assert!(confine(&root.join("in"), &roots).is_ok());
        assert!(confine(&root.join("in/../in"), &roots).is_ok());
        assert!(matches!(
            confine(&root.join("../"), &roots),
            Err(ConfineError::Outside { .. })
        ));
        assert!(confine(Path::new("/etc"), &roots).is_err());
        std::os::unix::fs::symlink("/etc", root.join("out")).unwrap();
        assert!(matches!(
            confine(&root.join("out"), &roots),
            Err(ConfineError::Outside { .. })
        ));
        assert!(matches!(
            confine(&root.join("missing"), &roots),
            Err(ConfineError::Unresolvable { .. })
        ));
    }
}
