//! The README's "write your own plugin" walk-through: the logfmt parser, used from a workflow.

use crate::support::*;

#[test]
fn the_logfmt_example_plugin_ingests_serving_logs() {
    let env = Env::new();
    let wf = repo().join("workflows/logfmt.toml");
    let out = env.ferry(&["validate", wf.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 30);
    let table = env.table("serving_logs");
    let schema = table[0].schema();
    assert_eq!(
        schema
            .field_with_name("latency_ms")
            .unwrap()
            .data_type()
            .to_string(),
        "Int64"
    );
    let msgs = column_text(&table, "msg");
    assert!(msgs.contains(&"scored request 7".to_owned()), "{msgs:?}");
    let levels = column_text(&table, "level");
    assert_eq!(levels.iter().filter(|l| *l == "warn").count(), 8);
}
