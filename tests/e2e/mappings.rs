//! Polaris-style mappings: the KTTM example's table equals what pandas computes from the raw
//! events, and every bad mapping is refused by `ferry validate` at its line, naming the
//! mapping, the expression and what is wrong.

use crate::support::*;

const KTTM: &str = "workflows/data/events/kttm-2019-08-19.json.gz";

#[test]
fn the_kttm_example_stores_what_pandas_computes_from_the_raw_events() {
    let env = Env::new();
    let wf = repo().join("workflows/kttm.toml");
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["metrics"]["numRowsProcessed"], 400, "{job}");
    assert_eq!(job["metrics"]["numRowsSkippedByError"], 0, "{job}");
    // The job shows how it ingested, as Polaris does.
    assert_eq!(job["ingestionMode"], "replace");
    assert_eq!(job["mappings"][0]["column"], "__time");
    assert_eq!(
        job["mappings"][0]["expression"],
        r#"TIME_PARSE("timestamp")"#
    );

    let compared = deltalake(
        r#"import pandas as pd, numpy as np
stored = DeltaTable(sys.argv[1]).to_pandas()
raw = pd.json_normalize(pd.read_json(sys.argv[2], lines=True, dtype=False, convert_dates=False).to_dict('records'))
ts = pd.to_datetime(raw['timestamp'], utc=True)
want = pd.DataFrame({
    '__time': ts,
    'hour': ts.dt.floor('h'),
    'day': ts.dt.strftime('%Y-%m-%d'),
    'session': raw['session'],
    'number': raw['number'].astype('int64'),
    'agent': raw['agent_type'].map(lambda a: 'mobile' if a == 'Mobile Browser' else a.lower()),
    'city': raw['geo.city'].fillna(raw['geo.country']).fillna('unknown'),
    'session_length': raw['session_length'].astype('int64'),
    # ROUND(x, 2) rounds half away from zero; these are positive.
    'session_minutes': np.floor(raw['session_length'] / 60000.0 * 100 + 0.5) / 100,
})
want = want[want['agent'] != 'robot']
keys = ['__time', 'session', 'number']
def rows(df):
    df = df.sort_values(keys).reset_index(drop=True)
    for c in ['__time', 'hour']:
        df[c] = df[c].map(lambda t: t.isoformat())
    return df.to_dict('records')
got, expected = rows(stored), rows(want)
print(json.dumps({'columns': list(stored.columns), 'stored': len(got), 'expected': len(expected),
                  'differ': [[g, e] for g, e in zip(got, expected) if g != e][:3]}, default=str))"#,
        &env.home().join("tables/kttm"),
        &[&repo().join(KTTM)],
    );
    let compared: serde_json::Value = serde_json::from_str(&compared).unwrap();
    assert_eq!(
        compared["columns"],
        serde_json::json!([
            "__time",
            "hour",
            "day",
            "session",
            "number",
            "agent",
            "city",
            "session_length",
            "session_minutes"
        ]),
        "the table holds exactly the mapped columns, in order"
    );
    assert_eq!(compared["stored"], 261, "{compared}");
    assert_eq!(compared["stored"], compared["expected"], "{compared}");
    assert_eq!(compared["differ"], serde_json::json!([]), "{compared}");
}

#[test]
fn bad_mappings_are_refused_at_their_lines_before_anything_runs() {
    let env = Env::new();
    env.write(
        "in/a.json",
        "{\"ts\": \"2019-08-19T00:00:01Z\", \"n\": 5}\n",
    );
    let workflow = |validate: &str| {
        format!(
            r#"[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "parser-ndjson"
source_settings = {{ root = "/in" }}
grants.dirs = [{{ path = "in", mount = "/in" }}]

[[steps]]
name = "validate"
kind = "validate"
input = "import"
{validate}

[[steps]]
name = "ingest"
kind = "ingest"
input = "validate"
table = "t"
"#
        )
    };
    let wf = env.write(
        "bad.toml",
        workflow(
            r#"input_schema = { ts = "string", n = "int64" }
mappings = [
  { column = "__time", expression = 'TIME_PARSE("tss")' },
  { column = "b", expression = 'TME_FLOOR("n")' },
  { column = "c", expression = "TIME_FLOOR(\"ts\", 'PT1H')" },
  { column = "d", expression = "TIME_FLOOR(TIME_PARSE(\"ts\"), 'PT1Q')" },
  { column = "e", expression = '"n" + ' },
  { column = "f", expression = "\"n\" + 'x'" },
  { column = "g", expression = 'MAX("n")' },
]"#,
        ),
    );
    for command in ["validate", "run"] {
        let out = env.ferry(&[command, wf.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(78), "{command}: {}", stderr(&out));
        let err = stderr(&out);
        let expect = [
            "bad.toml:15:14: mapping `__time` (`TIME_PARSE(\"tss\")`), at column 13: unknown column `tss`, did you mean `\"ts\"`?",
            "bad.toml:16:14: mapping `b` (`TME_FLOOR(\"n\")`), at column 1: Invalid function 'tme_floor'. Did you mean 'time_floor'?",
            "bad.toml:17:14: mapping `c`",
            "the first argument must be a timestamp (TIME_PARSE makes one from a string), not Utf8",
            "bad.toml:18:14: mapping `d`",
            "`PT1Q` is not a period",
            "bad.toml:19:14: mapping `e` (`\"n\" + `): not a SQL expression",
            "bad.toml:20:14: mapping `f`",
            "Cannot coerce arithmetic expression Int64 + Utf8",
            "bad.toml:21:14: mapping `g` (`MAX(\"n\")`), at column 1: `MAX` is an aggregation",
        ];
        for want in expect {
            assert!(
                err.contains(want),
                "{command}: stderr does not say {want}:\n{err}"
            );
        }
    }
    assert!(
        !env.home().join("tables/t").exists(),
        "nothing was written by a refused run"
    );

    let mixed = env.write(
        "mixed.toml",
        workflow(
            r#"mappings = [{ column = "x", expression = '"n"', aggregation = true }, { column = "x", expression = '"n"' }]
[steps.columns]
n = { type = "int64" }"#,
        ),
    );
    let out = env.ferry(&["validate", mixed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78));
    let err = stderr(&out);
    for want in [
        "`mappings` make every stored column: drop [steps.schema] and [steps.columns]",
        "`mappings` need `input_schema`",
        "two mappings make column `x`",
        "mapping `x` is an aggregation: rollup tables are not built yet",
    ] {
        assert!(err.contains(want), "stderr does not say {want}:\n{err}");
    }
}
