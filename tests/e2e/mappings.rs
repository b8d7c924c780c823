//! Polaris-style mappings: the KTTM example's table equals what pandas computes from the raw
//! events, and every bad mapping is refused by `ferry validate` at its line, naming the
//! mapping, the expression and what is wrong. The KTTM rollup, over two days' files in two
//! jobs, equals pandas' groupby of the raw rows.

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
        "mapping `x` is an aggregation, which needs a rollup: add `rollup = { granularity = \"minute\" }`",
    ] {
        assert!(err.contains(want), "stderr does not say {want}:\n{err}");
    }
}

const ROLLUP: &str = r#"
[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "parser-ndjson"
source_settings = { root = "/events" }
grants.dirs = [{ path = "events", mount = "/events" }]

[[steps]]
name = "validate"
kind = "validate"
input = "import"
input_schema = { timestamp = "string", session_length = "int64", "geo.city" = "string" }
mappings = [
  { column = "__time", expression = 'TIME_PARSE("timestamp")' },
  { column = "city", expression = '"geo.city"' },
  { column = "max_session_length", expression = 'MAX("session_length")', aggregation = true },
  { column = "__count", expression = "COUNT(*)", aggregation = true },
]
rollup = { granularity = "GRANULARITY" }

[[steps]]
name = "ingest"
kind = "ingest"
input = "validate"
table = "kttm_rollup"
"#;

#[test]
fn the_kttm_rollup_over_two_days_and_two_jobs_equals_pandas_groupby() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("events")).unwrap();
    std::fs::copy(
        repo().join(KTTM),
        env.path("events/kttm-2019-08-19.json.gz"),
    )
    .unwrap();
    let wf = env.write("rollup.toml", ROLLUP.replace("GRANULARITY", "minute"));
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["mappings"][2]["aggregation"], true, "{job}");

    // The next day's file: the day's events a day later, and 60 late events of the first day,
    // which fall into groups the table already holds (and must combine with them).
    let made = std::process::Command::new(repo().join(".venv/bin/python"))
        .args([
            "-c",
            r#"import gzip, json, sys
rows = [json.loads(l) for l in gzip.open(sys.argv[1], 'rt')]
later = [dict(r, timestamp=r['timestamp'].replace('2019-08-19', '2019-08-20')) for r in rows]
late = [dict(r, session_length=r['session_length'] * 3 if i % 2 else 1) for i, r in enumerate(rows[::5][:60])]
with gzip.open(sys.argv[2], 'wt') as f:
    for r in later + late:
        f.write(json.dumps(r) + '\n')"#,
        ])
        .arg(env.path("events/kttm-2019-08-19.json.gz"))
        .arg(env.path("events/kttm-2019-08-20.json.gz"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let (code, job) = env.json(&["run", wf.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(job["files"]["passed"], 1, "only the new day's file: {job}");
    assert_eq!(job["metrics"]["numRowsProcessed"], 460, "{job}");

    let compared = deltalake(
        r#"import glob, pandas as pd
stored = DeltaTable(sys.argv[1]).to_pandas()
raw = pd.concat([pd.json_normalize(pd.read_json(f, lines=True, dtype=False, convert_dates=False).to_dict('records'))
                 for f in sorted(glob.glob(sys.argv[2] + '/*.json.gz'))])
raw['__time'] = pd.to_datetime(raw['timestamp'], utc=True).dt.floor('min')
want = (raw.groupby(['__time', 'geo.city'], dropna=False)
           .agg(max_session_length=('session_length', 'max'), __count=('session_length', 'size'))
           .reset_index().rename(columns={'geo.city': 'city'}))
def rows(df):
    df = df[['__time', 'city', 'max_session_length', '__count']].copy()
    df['__time'] = df['__time'].map(lambda t: t.isoformat())
    df['city'] = df['city'].fillna('<null>')
    return sorted(tuple(int(x) if not isinstance(x, str) else x for x in r) for r in df.itertuples(index=False))
got, exp = rows(stored), rows(want)
print(json.dumps({'stored': len(got), 'expected': len(exp), 'groups_unique': len(set(r[:2] for r in got)) == len(got),
                  'events': int(stored['__count'].sum()),
                  'differ': [[g, e] for g, e in zip(got, exp) if g != e][:3]}))"#,
        &env.home().join("tables/kttm_rollup"),
        &[&env.path("events")],
    );
    let compared: serde_json::Value = serde_json::from_str(&compared).unwrap();
    assert_eq!(
        compared["groups_unique"], true,
        "one row per group: {compared}"
    );
    assert_eq!(compared["events"], 860, "{compared}");
    assert_eq!(compared["stored"], compared["expected"], "{compared}");
    assert_eq!(compared["differ"], serde_json::json!([]), "{compared}");

    // Another granularity into the same table is refused, and the table is left as it was.
    env.write(
        "events/kttm-2019-08-21.json.gz",
        std::fs::read(repo().join(KTTM)).unwrap(),
    );
    let hourly = env.write("rollup.toml", ROLLUP.replace("GRANULARITY", "hour"));
    let (code, job) = env.json(&["run", hourly.to_str().unwrap()]);
    assert_eq!(code, 1, "{job}");
    assert_eq!(job["executionStatus"], "FAILED", "{job}");
    assert_eq!(job["failure"]["code"], "rollup_changed", "{job}");
    let message = job["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("holds a rollup of granularity=minute")
            && message.contains("this workflow rolls up granularity=hour"),
        "{message}"
    );
    let count: usize = row_count(&env.table("kttm_rollup"));
    assert_eq!(count as u64, compared["stored"].as_u64().unwrap());
}

#[test]
fn rollups_that_cannot_combine_are_refused_with_why() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("events")).unwrap();
    let bad = |mappings: &str, rollup: &str, mode: &str| {
        let text = ROLLUP
            .replace("rollup = { granularity = \"GRANULARITY\" }", rollup)
            .replace("table = \"kttm_rollup\"", &format!("table = \"t\"\n{mode}"));
        let text = match mappings {
            "" => text,
            m => text.replace(
                "{ column = \"__count\", expression = \"COUNT(*)\", aggregation = true },",
                m,
            ),
        };
        let wf = env.write("bad.toml", text);
        let out = env.ferry(&["validate", wf.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
        stderr(&out)
    };
    let rollup = "rollup = { granularity = \"minute\" }";
    for (mappings, rollup, mode, says) in [
        (
            "{ column = \"avg\", expression = 'AVG(\"session_length\")', aggregation = true },",
            rollup,
            "",
            "`AVG` cannot be combined across objects and jobs (an average of averages is not the average): store SUM(x) and COUNT(x)",
        ),
        (
            "{ column = \"d\", expression = 'COUNT(DISTINCT \"geo.city\")', aggregation = true },",
            rollup,
            "",
            "with DISTINCT, FILTER or ORDER BY cannot be combined",
        ),
        (
            "{ column = \"x\", expression = 'MAX(\"session_length\") + 1', aggregation = true },",
            rollup,
            "",
            "an aggregation mapping is one aggregate call",
        ),
        (
            "",
            "rollup = { granularity = \"fortnight\" }",
            "",
            "the rollup's granularity",
        ),
        (
            "",
            "",
            "",
            "mapping `max_session_length` is an aggregation, which needs a rollup",
        ),
        (
            "",
            rollup,
            "mode = \"replace\"",
            "a rollup combines each object's groups with the table's, which needs mode = \"append\"",
        ),
    ] {
        let err = bad(mappings, rollup, mode);
        assert!(err.contains(says), "stderr does not say {says}:\n{err}");
    }
}

#[test]
fn the_sql_form_is_the_same_rollup_and_where_filters_input_rows() {
    let env = Env::new();
    std::fs::create_dir_all(env.path("events")).unwrap();
    std::fs::copy(
        repo().join(KTTM),
        env.path("events/kttm-2019-08-19.json.gz"),
    )
    .unwrap();
    let listed = env.write("listed.toml", ROLLUP.replace("GRANULARITY", "minute"));
    let (code, job) = env.json(&["run", listed.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    let sql = |select: &str| {
        let start = ROLLUP.find("mappings = [").unwrap();
        let end = ROLLUP.find("rollup = {").unwrap();
        format!(
            "{}sql = \"\"\"{select}\"\"\"\n{}",
            &ROLLUP[..start],
            &ROLLUP[end..]
        )
        .replace("GRANULARITY", "minute")
        .replace("table = \"kttm_rollup\"", "table = \"by_sql\"")
    };
    let select = r#"SELECT TIME_PARSE("timestamp") AS __time, "geo.city" AS city,
       MAX("session_length") AS max_session_length, COUNT(*) AS __count
FROM input GROUP BY ALL"#;
    let by_sql = env.write("by_sql.toml", sql(select));
    let (code, job) = env.json(&["run", by_sql.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    assert_eq!(
        job["sql"].as_str(),
        Some(select),
        "the job shows its sql: {job}"
    );
    let rows = |table: &str| {
        let mut rows: Vec<String> = ["__time", "city", "max_session_length", "__count"]
            .iter()
            .map(|c| column_text(&env.table(table), c))
            .fold(Vec::<String>::new(), |acc, col| {
                if acc.is_empty() {
                    col
                } else {
                    acc.into_iter()
                        .zip(col)
                        .map(|(a, b)| format!("{a}|{b}"))
                        .collect()
                }
            });
        rows.sort();
        rows
    };
    let listed_rows = rows("kttm_rollup");
    assert_eq!(listed_rows.len(), 335);
    assert_eq!(
        rows("by_sql"),
        listed_rows,
        "the two forms store the same rollup"
    );

    // WHERE filters input rows before they are grouped: only Berlin's events are counted.
    let berlin = env.write(
        "berlin.toml",
        sql(&select.replace(
            "GROUP BY ALL",
            "WHERE \"geo.city\" = 'Berlin' GROUP BY 1, 2",
        ))
        .replace("by_sql", "berlin"),
    );
    let (code, job) = env.json(&["run", berlin.to_str().unwrap()]);
    assert_eq!(code, 0, "{job}");
    let skipped = job["metrics"]["numRowsSkippedByFilter"].as_u64().unwrap();
    let counts: u64 = column_text(&env.table("berlin"), "__count")
        .iter()
        .map(|c| c.parse::<u64>().unwrap())
        .sum();
    assert!(skipped > 0 && counts > 0, "{job}");
    assert_eq!(counts + skipped, 400, "{job}");
    assert!(
        column_text(&env.table("berlin"), "city")
            .iter()
            .all(|c| c == "Berlin")
    );

    for (select, rollup, says) in [
        ("DELETE FROM input", true, "it writes nothing"),
        (
            r#"SELECT TIME_PARSE("timestamp") AS __time, COUNT(*) AS n FROM input GROUP BY 1"#,
            false,
            "a SELECT that aggregates (GROUP BY, MAX, COUNT …) is a rollup",
        ),
        (
            r#"SELECT TIME_PARSE("timestamp") AS __time, "geo.city" AS city, COUNT(*) AS n FROM input GROUP BY 1"#,
            true,
            "GROUP BY names 1 items, and the SELECT has 2",
        ),
        (
            r#"SELECT TIME_PARSE("timestamp") AS __time, COUNT(*) AS n FROM input WHERE "session_length" GROUP BY 1"#,
            true,
            "WHERE needs a condition (true or false), and this is Int64",
        ),
    ] {
        let mut text = sql(select);
        if !rollup {
            text = text.replace("rollup = { granularity = \"minute\" }", "");
        }
        let wf = env.write("bad.toml", text);
        let out = env.ferry(&["validate", wf.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
        assert!(stderr(&out).contains(says), "{select}: {}", stderr(&out));
    }
}
