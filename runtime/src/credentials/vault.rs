//! Secret values at rest: sealed with ChaCha20-Poly1305 (aws-lc-rs, the library rustls already
//! links) under the home's master key, so that the job store holds only ciphertext. Each
//! value is bound to its credential and field (the AEAD's associated data), so a sealed value
//! copied onto another name does not open.
//!
//! The master key is `FERRY_MASTER_KEY` (64 hex digits) when set — what several nodes of one
//! store share — and otherwise a key file in the home, made with mode 0600 the first time a
//! secret is stored.

use std::io::Write;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};

use super::Secret;

/// The environment variable that holds the master key, as 64 hex digits.
pub const MASTER_KEY_VAR: &str = "FERRY_MASTER_KEY";

const KEY_LEN: usize = 32;
const KEY_ID_LEN: usize = 8;
/// The first byte of every sealed value: its layout, should it ever change.
const FORMAT: u8 = 1;

/// Why a secret could not be sealed or opened. No variant carries a value.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "{MASTER_KEY_VAR} must be 64 hex digits (32 bytes), such as `openssl rand -hex 32` prints"
    )]
    BadKeyVar,
    #[error("master key file {path} must hold 64 hex digits")]
    BadKeyFile { path: PathBuf },
    #[error("cannot read or create the master key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no master key: secrets are stored, but {MASTER_KEY_VAR} is not set and {path} does not exist"
    )]
    NoKey { path: PathBuf },
    #[error(
        "secret `{credential}.{field}` was stored under another master key (set {MASTER_KEY_VAR} to the key it was stored with, or store the value again)"
    )]
    WrongKey { credential: String, field: String },
    #[error("secret `{credential}.{field}` is damaged: it does not open under the master key")]
    Damaged { credential: String, field: String },
    #[error("the system's random number generator failed")]
    Random,
}

/// The key secrets are sealed with. Its `Debug` shows only the key's id.
pub struct MasterKey {
    key: LessSafeKey,
    id: [u8; KEY_ID_LEN],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", hex::encode(self.id))
    }
}

fn parse_hex_key(text: &str) -> Option<[u8; KEY_LEN]> {
    let bytes = hex::decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

impl MasterKey {
    fn from_bytes(bytes: &[u8; KEY_LEN]) -> MasterKey {
        // A key id names the key without revealing it: a wrong key is then told apart from
        // a damaged value.
        let digest = Sha256::new()
            .chain_update(b"ferry master key id\0")
            .chain_update(bytes)
            .finalize();
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("a 32-byte ChaCha20 key");
        MasterKey {
            key: LessSafeKey::new(key),
            id,
        }
    }

    /// The key from `FERRY_MASTER_KEY`, else from `file` if it exists; `None` when neither.
    pub fn find(file: &Path) -> Result<Option<MasterKey>, VaultError> {
        if let Ok(text) = std::env::var(MASTER_KEY_VAR)
            && !text.is_empty()
        {
            let bytes = parse_hex_key(&text).ok_or(VaultError::BadKeyVar)?;
            return Ok(Some(MasterKey::from_bytes(&bytes)));
        }
        match std::fs::read_to_string(file) {
            Ok(text) => {
                let bytes = parse_hex_key(&text).ok_or_else(|| VaultError::BadKeyFile {
                    path: file.to_owned(),
                })?;
                Ok(Some(MasterKey::from_bytes(&bytes)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(VaultError::KeyFile {
                path: file.to_owned(),
                source,
            }),
        }
    }

    /// [`find`](Self::find), making a new random key in `file` (mode 0600) when there is none.
    /// Two processes doing this at once agree: the file is created exclusively, and the one
    /// that loses reads the winner's key.
    pub fn find_or_create(file: &Path) -> Result<MasterKey, VaultError> {
        if let Some(key) = Self::find(file)? {
            return Ok(key);
        }
        let fail = |source| VaultError::KeyFile {
            path: file.to_owned(),
            source,
        };
        let mut bytes = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| VaultError::Random)?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(file) {
            Ok(mut f) => {
                f.write_all(format!("{}\n", hex::encode(bytes)).as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(fail)?;
                Ok(MasterKey::from_bytes(&bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::find(file)?
                .ok_or_else(|| VaultError::NoKey {
                    path: file.to_owned(),
                }),
            Err(e) => Err(fail(e)),
        }
    }

    /// `value` sealed for field `field` of credential `credential`.
    pub fn seal(
        &self,
        credential: &str,
        field: &str,
        value: &Secret,
    ) -> Result<Vec<u8>, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| VaultError::Random)?;
        let mut sealed = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + value.expose().len() + 16);
        sealed.push(FORMAT);
        sealed.extend_from_slice(&self.id);
        sealed.extend_from_slice(&nonce);
        let mut body = value.expose().as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated(credential, field)),
                &mut body,
            )
            .map_err(|_| VaultError::Random)?;
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    /// The value [`seal`](Self::seal) made of field `field` of credential `credential`.
    pub fn open(&self, credential: &str, field: &str, sealed: &[u8]) -> Result<Secret, VaultError> {
        let damaged = || VaultError::Damaged {
            credential: credential.to_owned(),
            field: field.to_owned(),
        };
        let header = 1 + KEY_ID_LEN + NONCE_LEN;
        if sealed.len() < header || sealed[0] != FORMAT {
            return Err(damaged());
        }
        if sealed[1..1 + KEY_ID_LEN] != self.id {
            return Err(VaultError::WrongKey {
                credential: credential.to_owned(),
                field: field.to_owned(),
            });
        }
        let nonce: [u8; NONCE_LEN] = sealed[1 + KEY_ID_LEN..header].try_into().expect("sized");
        let mut body = sealed[header..].to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated(credential, field)),
                &mut body,
            )
            .map_err(|_| damaged())?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| damaged())?;
        Ok(Secret::new(text))
    }
}

fn associated(credential: &str, field: &str) -> Vec<u8> {
    [
        b"ferry secret\0",
        credential.as_bytes(),
        b"\0",
        field.as_bytes(),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; KEY_LEN])
    }

    #[test]
    fn a_sealed_value_opens_only_under_its_key_and_name() {
        let k = key(7);
        let sealed = k
            .seal("s3", "secret_access_key", &Secret::new("hunter2"))
            .unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            k.open("s3", "secret_access_key", &sealed).unwrap().expose(),
            "hunter2"
        );
        // Sealing twice gives different bytes (a fresh nonce each time).
        assert_ne!(
            sealed,
            k.seal("s3", "secret_access_key", &Secret::new("hunter2"))
                .unwrap()
        );
        assert!(matches!(
            key(8).open("s3", "secret_access_key", &sealed),
            Err(VaultError::WrongKey { .. })
        ));
        assert!(matches!(
            k.open("s3", "access_key_id", &sealed),
            Err(VaultError::Damaged { .. })
        ));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let e = k.open("s3", "secret_access_key", &flipped).unwrap_err();
        assert!(matches!(e, VaultError::Damaged { .. }), "{e}");
        assert!(!e.to_string().contains("hunter2"));
        assert!(matches!(
            k.open("s3", "x", &[1, 2]),
            Err(VaultError::Damaged { .. })
        ));
    }

    #[test]
    fn a_key_file_is_made_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys").join("master.key");
        let made = MasterKey::find_or_create(&file).unwrap();
        let again = MasterKey::find_or_create(&file).unwrap();
        assert_eq!(made.id, again.id);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&file, "not hex").unwrap();
        assert!(matches!(
            MasterKey::find(&file),
            Err(VaultError::BadKeyFile { .. })
        ));
    }
}
