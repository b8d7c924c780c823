//! Loading checks on tiny inline WAT components: they need no toolchain and pin down the
//! messages a plugin author sees for the commonest mistakes.

use super::*;

fn host() -> (tempfile::TempDir, PluginHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = PluginHost::new(dir.path().join("cache")).unwrap();
    (dir, host)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_core_module_is_refused_with_advice() {
    let (dir, host) = host();
    let path = write(&dir, "core.wat", "(module)");
    let err = host.load("core", &path, PluginKind::Parser).err().unwrap();
    assert!(matches!(err, PluginError::CoreModule { .. }));
    assert!(
        err.to_string().contains("build it for wasm32-wasip2"),
        "{err}"
    );
    let junk = write(&dir, "junk.wasm", "hello");
    assert!(matches!(
        host.load("junk", &junk, PluginKind::Parser),
        Err(PluginError::NotWasm { .. })
    ));
}

#[test]
fn a_plugin_for_another_wit_version_is_refused() {
    let (dir, host) = host();
    let path = write(
        &dir,
        "v3.wat",
        r#"(component (instance $i) (export "ferry:plugin/parser@0.3.0" (instance $i)))"#,
    );
    let err = host.load("v3", &path, PluginKind::Parser).err().unwrap();
    assert!(
        matches!(err, PluginError::IncompatibleVersion { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("built for ferry:plugin/parser@0.3.0"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("supports ferry:plugin/parser@0.2.0 (and ferry:plugin/parser@0.1.0)"),
        "{err}"
    );
}

#[test]
fn a_plugin_of_the_wrong_kind_is_refused() {
    let (dir, host) = host();
    let path = write(
        &dir,
        "src.wat",
        r#"(component (instance $i) (export "ferry:plugin/source@0.2.0" (instance $i)))"#,
    );
    let err = host.load("src", &path, PluginKind::Parser).err().unwrap();
    assert!(matches!(err, PluginError::WrongWorld { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("does not export ferry:plugin/parser@0.2.0"),
        "{err}"
    );
}

#[test]
fn compiled_artifacts_are_cached_on_disk() {
    let (dir, host) = host();
    let path = write(
        &dir,
        "p.wat",
        r#"(component (instance $i) (export "ferry:plugin/parser@0.2.0" (instance $i)))"#,
    );
    // The export has the right name but not the right functions, so linking fails — after
    // compilation, which is what this test is about.
    let _ = host.load("p", &path, PluginKind::Parser);
    let cached: Vec<_> = std::fs::read_dir(dir.path().join("cache"))
        .unwrap()
        .collect();
    assert_eq!(cached.len(), 1);
}

#[test]
fn a_deployer_for_0_1_is_refused_naming_both_versions() {
    let (dir, host) = host();
    let path = write(
        &dir,
        "d.wat",
        r#"(component (instance $i) (export "ferry:plugin/deployer@0.1.0" (instance $i)))"#,
    );
    let err = host.load("d", &path, PluginKind::Deployer).err().unwrap();
    assert!(
        err.to_string().contains(
            "built for ferry:plugin/deployer@0.1.0, but this ferry supports ferry:plugin/deployer@0.2.0"
        ),
        "{err}"
    );
}
