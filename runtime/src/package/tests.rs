use std::io::{Cursor, Write};

use super::archive::{self, Contents, MANIFEST};
use super::manifest::Manifest;
use super::{PackageError, Registry};

fn manifest(version: &str) -> Manifest {
    Manifest {
        format_version: 1,
        service: "svc".into(),
        version: version.into(),
        description: None,
        created_at: "2026-11-26T00:00:00.000Z".into(),
        source_job: None,
        auth: Default::default(),
        oauth2: None,
        endpoints: Vec::new(),
        files: Default::default(),
    }
}

fn contents() -> Contents {
    let mut c = Contents::default();
    c.add("endpoints/e/model/model.json", b"{}".to_vec())
        .unwrap();
    c.add("plugins/p.wasm", vec![0u8; 1000]).unwrap();
    c
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

#[test]
fn a_written_package_reads_back_verified() {
    let mut out = Cursor::new(Vec::new());
    let written = archive::write(manifest("v1"), &contents(), &mut out).unwrap();
    assert_eq!(written.files.len(), 2);
    let read = archive::read(Cursor::new(out.into_inner()), 1 << 20).unwrap();
    assert_eq!(read.manifest, written);
    assert_eq!(read.files["plugins/p.wasm"].len(), 1000);
}

#[test]
fn unsafe_oversized_or_inconsistent_zips_are_refused() {
    let mut out = Cursor::new(Vec::new());
    archive::write(manifest("v1"), &contents(), &mut out).unwrap();
    let good = out.into_inner();
    assert!(matches!(
        archive::read(Cursor::new(&good), 500),
        Err(PackageError::TooLarge { limit: 500 })
    ));
    let manifest_json = {
        let read = archive::read(Cursor::new(&good), 1 << 20).unwrap();
        serde_json::to_vec(&read.manifest).unwrap()
    };
    // A file the manifest does not list.
    let extra = zip_of(&[
        (MANIFEST, &manifest_json),
        ("endpoints/e/model/model.json", b"{}"),
        ("plugins/p.wasm", &[0u8; 1000]),
        ("sneaky.txt", b"x"),
    ]);
    let e = archive::read(Cursor::new(extra), 1 << 20).err().unwrap();
    assert!(e.to_string().contains("sneaky.txt"), "{e}");
    // A listed file missing.
    let missing = zip_of(&[(MANIFEST, &manifest_json), ("plugins/p.wasm", &[0u8; 1000])]);
    let e = archive::read(Cursor::new(missing), 1 << 20).err().unwrap();
    assert!(e.to_string().contains("model.json"), "{e}");
    // No manifest, an absolute path, not a zip.
    assert!(archive::read(Cursor::new(zip_of(&[("a", b"b")])), 1 << 20).is_err());
    let e = archive::read(Cursor::new(zip_of(&[("/etc/x", b"b")])), 1 << 20)
        .err()
        .unwrap();
    assert!(e.to_string().contains("zip slip"), "{e}");
    assert!(archive::read(Cursor::new(b"not a zip".to_vec()), 1 << 20).is_err());
    assert!(Contents::default().add("../x", Vec::new()).is_err());
}

#[test]
fn the_registry_is_append_only_and_orders_versions_naturally() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path().to_owned());
    assert_eq!(registry.next_version("svc"), "v1");
    for v in ["v1", "v2", "v10"] {
        registry.add(manifest(v), &contents()).unwrap();
    }
    assert_eq!(registry.versions("svc"), ["v1", "v2", "v10"]);
    assert_eq!(registry.next_version("svc"), "v11");
    assert!(matches!(
        registry.add(manifest("v2"), &contents()),
        Err(PackageError::Exists { .. })
    ));
    assert!(registry.add(manifest("../v3"), &contents()).is_err());
    assert_eq!(registry.info("svc", "v10").unwrap().version, "v10");
    registry.delete("svc", "v1").unwrap();
    assert!(matches!(
        registry.open("svc", "v1"),
        Err(PackageError::NotFound { .. })
    ));
}
