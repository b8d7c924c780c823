//! What a deployer sees of a deployment: the `target` record, and the packages it names laid
//! out read-only under `/packages` (each version's zip as stored, and unpacked) in a scratch
//! directory that is removed when the operation ends.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::DeployError;
use crate::context::Context;
use crate::host::{DirAccess, Target, VersionRef};
use crate::store::{DeploymentRecord, Share};

/// Where packages appear inside the deployer's sandbox.
pub const MOUNT: &str = "/packages";

/// A scratch directory with the packages of one operation; removed on drop.
pub struct Packages {
    dir: PathBuf,
}

impl Packages {
    pub fn access(&self) -> DirAccess {
        DirAccess {
            host: self.dir.clone(),
            mount: MOUNT.to_owned(),
            write: false,
        }
    }
}

impl Drop for Packages {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        // The deployment's directory too, once empty.
        if let Some(parent) = self.dir.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// Where operations of `deployment` lay out their packages.
pub fn scratch(ferry: &Context, deployment: &str) -> PathBuf {
    ferry.home.root().join("deploy").join(deployment)
}

/// The versions a deployment should serve now: its desired ones when enabled, none otherwise.
pub fn serving(deployment: &DeploymentRecord) -> &[Share] {
    if deployment.desired.enabled {
        &deployment.desired.versions
    } else {
        &[]
    }
}

/// The target record for `shares`; with `lay_out`, the packages are written to a scratch
/// directory (verified again on the way) for the plugin to read.
pub fn build(
    ferry: &Context,
    deployment: &DeploymentRecord,
    stage: &str,
    shares: &[Share],
    lay_out: bool,
) -> Result<(Target, Option<Packages>), DeployError> {
    let registry = ferry.packages();
    let packages = if lay_out {
        let dir = scratch(ferry, &deployment.id).join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&dir).map_err(crate::package::PackageError::Io)?;
        Some(Packages { dir })
    } else {
        None
    };
    let mut versions = Vec::new();
    for share in shares {
        let bytes = registry.bytes(&deployment.service, &share.version)?;
        if let Some(p) = &packages {
            let verified = crate::package::Verified::read(&bytes, registry.limit())?;
            let root = p.dir.join(&share.version);
            for (path, content) in &verified.files {
                // Paths were checked when the package was verified: plain and relative.
                let file = root.join(path);
                std::fs::create_dir_all(file.parent().expect("a file in the package"))
                    .and_then(|()| std::fs::write(&file, content))
                    .map_err(crate::package::PackageError::Io)?;
            }
            let manifest =
                serde_json::to_vec_pretty(&verified.manifest).expect("a manifest serializes");
            std::fs::write(root.join(crate::package::MANIFEST), manifest)
                .and_then(|()| std::fs::write(p.dir.join(format!("{}.zip", share.version)), &bytes))
                .map_err(crate::package::PackageError::Io)?;
        }
        versions.push(VersionRef {
            version: share.version.clone(),
            percent: share.percent,
            archive: format!("{MOUNT}/{}.zip", share.version),
            files: format!("{MOUNT}/{}", share.version),
            sha256: hex::encode(Sha256::digest(&bytes)),
        });
    }
    Ok((
        Target {
            deployment: deployment.id.clone(),
            service: deployment.service.clone(),
            stage: stage.to_owned(),
            versions,
            state: deployment.plugin_state.clone(),
        },
        packages,
    ))
}
