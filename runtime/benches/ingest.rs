//! Throughput of the wasm CSV path against arrow-csv in the host, measured side by side in one
//! run on the same generated file, plus instantiate cost from the compile cache.
//!
//!     cargo bench -p ferry --bench ingest             # 200 MB
//!     FERRY_BENCH_MB=50 cargo bench -p ferry --bench ingest
//!
//! Needs the plugins built first (`cargo build --release --target wasm32-wasip2` in plugins/).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry::app::App;
use ferry::engine::{NoProgress, RunOptions};
use ferry::host::{
    CallLimits, CancelToken, Catalog, InstanceOptions, PluginHost, PluginKind, Sandbox,
};
use ferry::workflow::Workflow;

fn main() {
    let mb: u64 = std::env::var("FERRY_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let csv = data.join("bench.csv");
    let rows = generate(&csv, mb << 20);
    let bytes = std::fs::metadata(&csv).unwrap().len();
    let size_mb = bytes as f64 / 1e6;
    println!("input: {size_mb:.1} MB, {rows} rows ({})", csv.display());

    let runtime = tokio::runtime::Runtime::new().unwrap();

    // (b) native: arrow-csv in the host, inferring the schema like parser-csv does.
    let started = Instant::now();
    let native_rows = native_arrow_csv(&csv);
    let native = started.elapsed();
    assert_eq!(native_rows, rows);

    // (a') wasm parse only: the parser-csv component fed 1 MiB chunks through the host.
    let catalog = Catalog::from_env();
    let cache = dir.path().join("cache");
    let (parse_only, parse_rows) = runtime.block_on(wasm_parse_only(&csv, &catalog, &cache));
    assert_eq!(parse_rows, rows);

    // (a) wasm end to end: `ferry run` of a workflow, source-local → parser-csv → Delta table.
    let workflow = dir.path().join("bench.toml");
    std::fs::write(
        &workflow,
        r#"
[[steps]]
name = "import"
kind = "import"
source = "source-local"
parser = "parser-csv"
source_settings = { root = "/data" }
grants.dirs = [{ path = "data", mount = "/data" }]
limits = { memory = "512MiB", timeout = "600s" }

[[steps]]
name = "ingest"
kind = "ingest"
input = "import"
table = "bench"
"#,
    )
    .unwrap();
    let (end_to_end, persisted) = runtime.block_on(async {
        let app = App::builder(dir.path().join("home"))
            .catalog(catalog.clone())
            .open()
            .await
            .unwrap();
        let wf = Workflow::load(&workflow).unwrap();
        let prepared = app.check(&wf).await.unwrap();
        let started = Instant::now();
        let job = app
            .run(&prepared, &RunOptions::default(), &NoProgress)
            .await
            .unwrap();
        (started.elapsed(), job.metrics.num_rows_persisted)
    });
    assert_eq!(persisted, rows);

    let rate = |d: Duration| (size_mb / d.as_secs_f64(), rows as f64 / d.as_secs_f64());
    let (n_mb, n_rows) = rate(native);
    let (p_mb, p_rows) = rate(parse_only);
    let (e_mb, e_rows) = rate(end_to_end);
    println!();
    println!("{:<44} {:>10} {:>14}", "path", "MB/s", "rows/s");
    println!(
        "{:<44} {:>10.1} {:>14.0}",
        "native arrow-csv (parse only)", n_mb, n_rows
    );
    println!(
        "{:<44} {:>10.1} {:>14.0}",
        "wasm parser-csv (parse only, via host)", p_mb, p_rows
    );
    println!(
        "{:<44} {:>10.1} {:>14.0}",
        "wasm end to end (source → parse → Delta)", e_mb, e_rows
    );
    println!("ratio wasm parse / native parse: {:.2}", p_mb / n_mb);
    println!("ratio wasm end to end / native parse: {:.2}", e_mb / n_mb);

    runtime.block_on(instantiate_costs(&catalog, &cache));
}

/// Prediction-like rows: id, timestamp, label, score, three features, a tag.
fn generate(path: &Path, target: u64) -> u64 {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(
        out,
        "prediction_id,ts,label,score,feature_age,feature_income,feature_state,tag_env"
    )
    .unwrap();
    let states = ["CA", "NY", "TX", "WA", "\"North, Carolina\""];
    let mut written = 0u64;
    let mut rows = 0u64;
    let mut x: u64 = 0x2545F4914F6CDD1D;
    while written < target {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let line = format!(
            "p-{rows:09},2024-08-19T{:02}:{:02}:{:02}Z,{},{:.4},{},{:.2},{},{}\n",
            (x >> 8) % 24,
            (x >> 16) % 60,
            (x >> 24) % 60,
            if x.is_multiple_of(2) {
                "fraud"
            } else {
                "legit"
            },
            (x % 10_000) as f64 / 10_000.0,
            18 + (x >> 32) % 70,
            (x >> 20) as f64 / 1e9,
            states[(x % 5) as usize],
            if x.is_multiple_of(7) {
                "staging"
            } else {
                "prod"
            },
        );
        out.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        rows += 1;
    }
    out.flush().unwrap();
    rows
}

fn native_arrow_csv(path: &Path) -> u64 {
    let format = arrow::csv::reader::Format::default().with_header(true);
    let mut file = std::fs::File::open(path).unwrap();
    let (schema, _) = format.infer_schema(&mut file, Some(8192)).unwrap();
    let file = std::fs::File::open(path).unwrap();
    let reader = arrow::csv::ReaderBuilder::new(Arc::new(schema))
        .with_format(format)
        .with_batch_size(8192)
        .build(file)
        .unwrap();
    reader.map(|b| b.unwrap().num_rows() as u64).sum()
}

async fn wasm_parse_only(path: &Path, catalog: &Catalog, cache: &Path) -> (Duration, u64) {
    let host = PluginHost::new(cache.to_owned()).unwrap();
    let file = catalog.resolve("parser-csv", &Default::default()).unwrap();
    let plugin = host.load("parser-csv", &file, PluginKind::Parser).unwrap();
    let options = InstanceOptions {
        step: "bench".into(),
        sandbox: Sandbox::default(),
        limits: CallLimits {
            timeout: Duration::from_secs(600),
            ..CallLimits::default()
        },
        cancel: CancelToken::default(),
    };
    let bytes = std::fs::read(path).unwrap();
    let started = Instant::now();
    let mut parser = host.parser(&plugin, &options).await.unwrap();
    parser.open("bench.csv").await.unwrap();
    let mut rows = 0u64;
    for chunk in bytes.chunks(1 << 20) {
        let out = parser.push(chunk).await.unwrap();
        rows += out
            .batches
            .iter()
            .map(|b| b.batch.num_rows() as u64)
            .sum::<u64>();
    }
    let out = parser.finish().await.unwrap();
    rows += out
        .batches
        .iter()
        .map(|b| b.batch.num_rows() as u64)
        .sum::<u64>();
    (started.elapsed(), rows)
}

/// Loading from the compile cache and instantiating from `InstancePre`, per step.
async fn instantiate_costs(catalog: &Catalog, cache: &Path) {
    let file = catalog.resolve("parser-csv", &Default::default()).unwrap();
    // A fresh host: the artifact comes from the on-disk cache, not from compilation.
    let host = PluginHost::new(cache.to_owned()).unwrap();
    let started = Instant::now();
    let plugin = host.load("parser-csv", &file, PluginKind::Parser).unwrap();
    let load = started.elapsed();
    let options = InstanceOptions {
        step: "bench".into(),
        sandbox: Sandbox::default(),
        limits: CallLimits::default(),
        cancel: CancelToken::default(),
    };
    let n = 1000;
    let started = Instant::now();
    for _ in 0..n {
        drop(host.parser(&plugin, &options).await.unwrap());
    }
    let per = started.elapsed() / n;
    println!();
    println!(
        "load parser-csv from the compile cache: {:.2} ms",
        load.as_secs_f64() * 1e3
    );
    println!(
        "instantiate parser-csv from InstancePre: {:.1} µs (mean of {n})",
        per.as_secs_f64() * 1e6
    );
}
