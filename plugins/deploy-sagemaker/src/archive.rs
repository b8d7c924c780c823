//! `model.tar.gz`: the one form SageMaker takes model data in (`ModelDataUrl`). The container
//! finds the archive's files unpacked under `/opt/ml/model`.
//!
//! The archive is deterministic (files in name order, mtime 0, owner 0, mode 0644, no gzip
//! timestamp): the same package always gives the same bytes, so re-uploading a version after a
//! half-finished apply changes nothing the endpoint could notice.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

/// The gzipped tar of `files` (path relative to the archive root with `/`, bytes), in the
/// order given; [`ferry_guest::deploy::files_under`] gives them in name order.
pub fn model_tar_gz(files: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let gzip = GzEncoder::new(Vec::new(), Compression::default());
    let mut tar = tar::Builder::new(gzip);
    for (path, bytes) in files {
        // GNU headers carry paths longer than ustar's 100 bytes.
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        tar.append_data(&mut header, path, bytes.as_slice())?;
    }
    let mut gzip = tar.into_inner()?;
    gzip.flush()?;
    gzip.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn files() -> Vec<(String, Vec<u8>)> {
        vec![
            (
                "endpoints/score/model/model.json".into(),
                b"{\"w\":[1]}".to_vec(),
            ),
            ("manifest.json".into(), b"{}".to_vec()),
            (
                format!("plugins/{}.wasm", "p".repeat(120)),
                vec![0, 97, 115, 109],
            ),
        ]
    }

    #[test]
    fn holds_every_file_with_relative_paths_and_fixed_times() {
        let bytes = model_tar_gz(&files()).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            assert_eq!(entry.header().mtime().unwrap(), 0);
            assert_eq!(entry.header().mode().unwrap(), 0o644);
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut body = Vec::new();
            entry.read_to_end(&mut body).unwrap();
            seen.push((path, body));
        }
        assert_eq!(seen, files());
    }

    #[test]
    fn is_the_same_every_time() {
        assert_eq!(
            model_tar_gz(&files()).unwrap(),
            model_tar_gz(&files()).unwrap()
        );
        // No gzip timestamp either (bytes 4..8 of the header).
        assert_eq!(&model_tar_gz(&files()).unwrap()[4..8], &[0, 0, 0, 0]);
    }

    #[test]
    fn an_empty_package_is_an_empty_archive() {
        let bytes = model_tar_gz(&[]).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        assert_eq!(archive.entries().unwrap().count(), 0);
    }
}
