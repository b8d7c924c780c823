//! `mode = "merge"`: delayed actuals merged onto 100k predictions by `prediction_id` equal
//! what pandas computes from the same files, through a kill -9 and a resume; repeated keys,
//! null keys and bad merge rules are refused with their reasons.

use std::process::Command;

use crate::support::*;

const PREDICTIONS: &str = r#"
[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "parser-csv"
source_settings = { root = "/in" }
grants.dirs = [{ path = "predictions", mount = "/in" }]

[[steps]]
name = "validate"
kind = "validate"
input = "import"
[steps.schema]
prediction_id = "prediction_id"
timestamp = "prediction_ts"
prediction_label = "predicted_label"
prediction_score = "predicted_score"
feature_prefix = "feature_"

[[steps]]
name = "ingest"
kind = "ingest"
input = "validate"
table = "predictions"
"#;

const ACTUALS: &str = r#"
[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "parser-csv"
source_settings = { root = "/in" }
grants.dirs = [{ path = "actuals", mount = "/in" }]

[[steps]]
name = "validate"
kind = "validate"
input = "import"
[steps.schema]
prediction_id = "prediction_id"
actual_label = "actual_label"
actual_score = "actual_score"

[[steps]]
name = "ingest"
kind = "ingest"
input = "validate"
table = "predictions"
mode = "merge"
key = ["prediction_id"]
on_match = "update_non_null"
"#;

/// pandas writes 100k predictions in 4 files and 12 files of actuals: some late, some
/// repeating a key (the last wins), some with no score, a few for predictions never made.
const GENERATE: &str = r#"
import sys, os, numpy as np, pandas as pd
root = sys.argv[1]
rng = np.random.default_rng(7)
n = 100_000
ids = np.array([f"p-{i:06d}" for i in range(n)])
preds = pd.DataFrame({
    'prediction_id': ids,
    'prediction_ts': pd.date_range('2024-08-19', periods=n, freq='s', tz='UTC').strftime('%Y-%m-%dT%H:%M:%SZ'),
    'predicted_label': rng.choice(['fraud', 'legit'], n),
    'predicted_score': rng.random(n).round(4),
    'feature_amount': rng.integers(1, 10_000, n),
})
os.makedirs(f'{root}/predictions'); os.makedirs(f'{root}/actuals')
for i, part in enumerate(np.array_split(preds, 4)):
    part.to_csv(f'{root}/predictions/{i}.csv', index=False)
for f in range(12):
    picked = rng.choice(n, 3_000, replace=False)
    act = pd.DataFrame({'prediction_id': ids[picked],
                        'actual_label': rng.choice(['fraud', 'legit'], len(picked)),
                        'actual_score': rng.random(len(picked)).round(3)})
    act.loc[act.sample(frac=0.2, random_state=f).index, 'actual_score'] = np.nan
    # The same key again later in the file, with another label: this row wins.
    again = act.head(50).copy(); again['actual_label'] = 'revised'
    new = pd.DataFrame({'prediction_id': [f'new-{f}-{j}' for j in range(5)],
                        'actual_label': 'legit', 'actual_score': 0.5})
    pd.concat([act, again, new]).to_csv(f'{root}/actuals/{f:02d}.csv', index=False)
"#;

#[test]
fn delayed_actuals_merge_onto_100k_predictions_as_pandas_computes_through_a_kill() {
    let env = Env::new();
    let made = Command::new(repo().join(".venv/bin/python"))
        .args(["-c", GENERATE])
        .arg(env.path(""))
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let predictions = env.write("predictions.toml", PREDICTIONS);
    let (code, job) = env.json(&["run", predictions.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 100_000, "{job}");

    let actuals = env.write("actuals.toml", ACTUALS);
    let mut child = env
        .command(&["run", actuals.to_str().unwrap(), "--json"])
        .spawn()
        .unwrap();
    let id = wait_for_passed_files(&env, 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, job) = env.json(&["jobs", "show", &id]);
    assert_eq!(job["executionStatus"], "RUNNING", "killed mid-way: {job}");
    let (code, job) = env.json(&["jobs", "resume", &id]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["executionStatus"], "SUCCESS", "{job}");
    assert_eq!(job["files"]["passed"], 12, "{job}");
    assert_eq!(job["ingestionMode"], "merge", "{job}");
    assert_eq!(
        job["mergeKey"],
        serde_json::json!(["prediction_id"]),
        "{job}"
    );
    // 3,055 rows a file, 50 of them superseded by a later row of the same key.
    assert_eq!(job["metrics"]["numRowsProcessed"], 12 * 3_055, "{job}");
    assert_eq!(job["metrics"]["numRowsPersisted"], 12 * 3_005, "{job}");

    let compared = deltalake(
        r#"import glob, pandas as pd, numpy as np
stored = DeltaTable(sys.argv[1]).to_pandas()
root = sys.argv[2]
want = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(f'{root}/predictions/*.csv'))])
want = want.rename(columns={'predicted_label': 'prediction_label', 'predicted_score': 'prediction_score'})
want = want.drop(columns=['prediction_ts']).set_index('prediction_id')
want['actual_label'] = None; want['actual_score'] = np.nan
for f in sorted(glob.glob(f'{root}/actuals/*.csv')):
    act = pd.read_csv(f).drop_duplicates('prediction_id', keep='last').set_index('prediction_id')
    fresh = act.index.difference(want.index)
    want = pd.concat([want, act.loc[fresh]])
    old = act.index.intersection(want.index).difference(fresh)
    for c in ['actual_label', 'actual_score']:
        v = act.loc[old, c]
        v = v[v.notna()]
        want.loc[v.index, c] = v
cols = ['prediction_label', 'prediction_score', 'feature_amount', 'actual_label', 'actual_score']
def rows(df):
    df = df[cols].sort_index()
    return [[i] + [None if pd.isna(x) else (float(x) if isinstance(x, (int, float, np.number)) else x) for x in r]
            for i, r in zip(df.index, df.itertuples(index=False))]
got = rows(stored.set_index('prediction_id'))
exp = rows(want)
print(json.dumps({'stored': len(got), 'unique': bool(stored.prediction_id.is_unique), 'expected': len(exp),
                  'filled': int(stored.actual_label.notna().sum()),
                  'differ': [[g, e] for g, e in zip(got, exp) if g != e][:3]}))"#,
        &env.home().join("tables/predictions"),
        &[&env.path("")],
    );
    let compared: serde_json::Value = serde_json::from_str(&compared).unwrap();
    assert_eq!(
        compared["unique"], true,
        "every prediction once: {compared}"
    );
    assert_eq!(compared["stored"], 100_000 + 12 * 5, "{compared}");
    assert_eq!(compared["stored"], compared["expected"], "{compared}");
    assert!(compared["filled"].as_u64().unwrap() > 25_000, "{compared}");
    assert_eq!(compared["differ"], serde_json::json!([]), "{compared}");
}

#[test]
fn repeated_and_missing_keys_and_bad_merge_rules_are_refused() {
    let env = Env::new();
    env.write("in/a.csv", "id,v\nk1,1\nk2,2\n");
    let wf = |extra: &str| {
        format!(
            "{}mode = \"merge\"\n{extra}",
            simple_workflow("t", "in", "parser-csv", "", "")
        )
    };
    let first = env.write("first.toml", wf("key = [\"id\"]\n"));
    let (code, job) = env.json(&["run", first.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");

    // A key twice in one object fails that object, naming the key; the table keeps its rows.
    env.write("in/b.csv", "id,v\nk2,20\n,30\nk3,3\nk2,21\n");
    let strict = env.write(
        "strict.toml",
        wf("key = [\"id\"]\non_duplicate_key = \"fail\"\n"),
    );
    let (code, job) = env.json(&["run", strict.to_str().unwrap()]);
    assert_ne!(code, 0, "{job}");
    let (_, files) = env.json(&["jobs", "files", job["id"].as_str().unwrap()]);
    let failed = &files["items"][1];
    assert_eq!(failed["name"], "b.csv", "{files}");
    assert_eq!(failed["status"], "failed", "{files}");
    assert_eq!(failed["error"]["code"], "duplicate_key", "{files}");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.contains("id=k2"), "{message}");
    let mut v = column_text(&env.table("t"), "v");
    v.sort();
    assert_eq!(v, ["1", "2"], "nothing of b.csv is in");

    // The last row of a key wins; a row without a key is skipped by error, naming the column.
    let last = env.write("last.toml", wf("key = [\"id\"]\n"));
    let (code, job) = env.json(&["run", last.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["metrics"]["numRowsSkippedByError"], 1, "{job}");
    let problem = &job["parseExceptions"][0];
    assert_eq!(problem["code"], "missing_key", "{job}");
    assert_eq!(problem["column"], "id", "{job}");
    assert_eq!(problem["row"], 2, "{job}");
    assert_eq!(problem["file"], "b.csv", "{job}");
    let mut rows: Vec<String> = column_text(&env.table("t"), "id")
        .into_iter()
        .zip(column_text(&env.table("t"), "v"))
        .map(|(id, v)| format!("{id}={v}"))
        .collect();
    rows.sort();
    assert_eq!(rows, ["k1=1", "k2=21", "k3=3"]);

    // Rules that cannot work are refused before anything runs.
    for (extra, says) in [
        ("", "mode = \"merge\" needs `key`"),
        (
            "key = [\"id\", \"id\"]\n",
            "key column `id` is listed twice",
        ),
    ] {
        let bad = env.write("bad.toml", wf(extra));
        let out = env.ferry(&["validate", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
    let append = env.write(
        "append.toml",
        simple_workflow("t", "in", "parser-csv", "", "") + "on_match = \"update\"\n",
    );
    let out = env.ferry(&["validate", append.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`on_match` is for mode = \"merge\""),
        "{}",
        stderr(&out)
    );
}
