//! The plugin kit: what `ferry plugin new` and `ferry plugin build` need to author plugins out
//! of tree. The WIT package, the Rust and Python SDKs and the project templates are embedded in
//! the binary ([`files`]); [`sdk`] writes a versioned copy of the SDKs, [`new`] a project, and
//! [`toolchain`] runs the project's language toolchain. Checking what a build produced is the
//! plugin host's job (`PluginHost::inspect`), called by the app.

mod error;
mod files;
mod manifest;
mod new;
mod sdk;
mod toolchain;

pub use error::KitError;
pub use manifest::{Language, MANIFEST, Manifest};
pub use new::{NewProject, new_project};
pub use sdk::{Sdk, default_sdk_root};
pub use toolchain::{COMPONENTIZE_PY, build};
