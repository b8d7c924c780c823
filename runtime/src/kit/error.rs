use std::path::PathBuf;

/// Why a plugin project could not be made or built.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} already exists; choose another name or directory", .0.display())]
    Exists(PathBuf),
    #[error("there is no {lang} template for a {kind} plugin yet (templates: {available})")]
    NoTemplate {
        kind: String,
        lang: &'static str,
        available: String,
    },
    #[error("{}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
    #[error("cannot run `{program}`: {source}{hint}")]
    Toolchain {
        program: String,
        hint: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the build failed (`{command}` exited with {status}); its errors are above")]
    BuildFailed { command: String, status: String },
    #[error("the build produced no .wasm component ({0})")]
    NoArtifact(String),
}
