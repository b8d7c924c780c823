//! Embeds the plugin kit in the binary: the `ferry:plugin` WIT package, the Rust SDK
//! (`plugins/guest`) and its lock file, the Python SDK (`plugins/guest-py`) and the project
//! templates, so `ferry plugin new` needs no ferry checkout. Writes `$OUT_DIR/kit_files.rs`, a
//! sorted list of `(path in the kit, bytes)`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// (where in the kit, directory from the workspace root)
const TREES: &[(&str, &str)] = &[
    ("wit", "wit"),
    ("sdk/rust/ferry-guest/src", "plugins/guest/src"),
    ("sdk/python/ferry_guest", "plugins/guest-py/ferry_guest"),
    ("templates", "runtime/templates"),
];

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("..");
    let mut files = Vec::new();
    for (kit, dir) in TREES {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        walk(&dir, &dir, kit, &mut files);
    }
    let lock = root.join("plugins/Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    files.push(("sdk/rust/Cargo.lock".to_owned(), lock));
    files.sort();
    let mut out = String::from("&[\n");
    for (kit, path) in files {
        let path = path.canonicalize().expect("kit file");
        writeln!(
            out,
            "    ({kit:?}, include_bytes!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("]\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets it")).join("kit_files.rs");
    std::fs::write(dest, out).expect("write kit_files.rs");
}

/// Every file under `dir`, but the frozen WIT 0.1 copy and Python's caches.
fn walk(base: &Path, dir: &Path, kit: &str, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "v0.1"
            || name == "__pycache__"
            || name.ends_with(".pyc")
            || name.starts_with('.')
        {
            continue;
        }
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            walk(base, &path, kit, files);
        } else {
            let rel = path
                .strip_prefix(base)
                .expect("under base")
                .to_string_lossy()
                .replace('\\', "/");
            files.push((format!("{kit}/{rel}"), path));
        }
    }
}
