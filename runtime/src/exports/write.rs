//! Writing a planned export: the entries streamed into a zip beside its final place, the
//! asked-for secret values encrypted with age to the passphrase, the manifest last (it lists
//! every entry's checksum), then one rename — a reader finds the whole zip or none.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::ExportError;
use super::manifest::{ExportManifest, FORMAT, FORMAT_VERSION, MANIFEST, SECRET_VALUES};
use super::plan::{Plan, Source};
use crate::archive::Writer;
use crate::credentials::Secret;
use crate::package::Registry;

/// Secret values by `credential.field`, opened for this export only.
pub type Values = BTreeMap<String, Secret>;

/// Encrypts `values` (as a JSON object) to `passphrase` with age's scrypt recipient: any age
/// tool (`age -d`, rage, pyrage) opens it with the passphrase, and nothing else does.
fn encrypt(values: &Values, passphrase: &Secret) -> Result<Vec<u8>, ExportError> {
    let plain: BTreeMap<&str, &str> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    // The plain text is wiped when dropped.
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(&plain).expect("strings encode"));
    let encryptor = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
        passphrase.expose().to_owned(),
    ));
    let mut out = Vec::new();
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| ExportError::Encrypt(e.to_string()))?;
    writer
        .write_all(&plain)
        .and_then(|()| writer.finish().map(drop))
        .map_err(|e| ExportError::Encrypt(e.to_string()))?;
    Ok(out)
}

/// What was written: the manifest and the zip's size.
pub struct Written {
    /// The manifest written into the zip.
    pub manifest: ExportManifest,
    /// The zip's size in bytes.
    pub size: u64,
}

/// Writes `plan` as export `id` to `out`, taking package zips from `packages` and the secret
/// values the plan names from `values` (encrypted to `passphrase`).
pub fn write(
    plan: Plan,
    id: &str,
    created_at: &str,
    packages: &Registry,
    values: &Values,
    passphrase: Option<&Secret>,
    out: &Path,
) -> Result<Written, ExportError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ExportError::Io { path, source }
    };
    let dir = out.parent().expect("an export's path has a directory");
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = tempfile::Builder::new()
        .prefix(".export-")
        .suffix(".zip.tmp")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    let mut zip = Writer::new(std::io::BufWriter::new(
        tmp.reopen().map_err(io(tmp.path()))?,
    ));
    for (entry, source) in &plan.entries {
        match source {
            Source::File(path) => {
                let mut file = std::fs::File::open(path).map_err(io(path))?;
                zip.add_from(entry, &mut file)?;
            }
            Source::Package { service, version } => {
                let mut file = packages.file(service, version)?;
                zip.add_from(entry, &mut file)?;
            }
            Source::Bytes(bytes) => zip.add(entry, bytes)?,
        }
    }
    if !plan.values.is_empty() {
        let passphrase = passphrase.ok_or(ExportError::NoPassphrase)?;
        let chosen: Values = plan
            .values
            .iter()
            .map(|(credential, field)| {
                let name = format!("{credential}.{field}");
                let value = values
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| ExportError::NoValue { name: name.clone() })?;
                Ok((name, value))
            })
            .collect::<Result<_, ExportError>>()?;
        zip.add(SECRET_VALUES, &encrypt(&chosen, passphrase)?)?;
    }
    let manifest = ExportManifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        ferry_version: env!("CARGO_PKG_VERSION").to_owned(),
        export_id: id.to_owned(),
        created_at: created_at.to_owned(),
        objects: plan.objects,
        files: zip.files().clone(),
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("the manifest encodes");
    let file = zip.finish(MANIFEST, &json)?;
    let file = file.into_inner().map_err(|e| ExportError::Io {
        path: tmp.path().display().to_string(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io(tmp.path()))?;
    let size = file.metadata().map_err(io(tmp.path()))?.len();
    tmp.persist(out).map_err(|e| ExportError::Io {
        path: out.display().to_string(),
        source: e.error,
    })?;
    Ok(Written { manifest, size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_open_with_the_passphrase_only() {
        let values = Values::from([("s3.secret_access_key".to_owned(), Secret::new("hunter2"))]);
        let sealed = encrypt(&values, &Secret::new("correct horse")).unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert!(sealed.starts_with(b"age-encryption.org/v1"));
        let open = |pass: &str| -> Option<String> {
            let decryptor = age::Decryptor::new(&sealed[..]).ok()?;
            let identity =
                age::scrypt::Identity::new(age::secrecy::SecretString::from(pass.to_owned()));
            let mut reader = decryptor
                .decrypt(std::iter::once(&identity as &dyn age::Identity))
                .ok()?;
            let mut text = String::new();
            std::io::Read::read_to_string(&mut reader, &mut text).ok()?;
            Some(text)
        };
        assert_eq!(
            open("correct horse").as_deref(),
            Some(r#"{"s3.secret_access_key":"hunter2"}"#)
        );
        assert_eq!(open("wrong"), None);
    }
}
