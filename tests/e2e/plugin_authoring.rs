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

/// A project made by `ferry plugin new`, built in a target dir shared between runs (so only
/// the first run compiles the SDK's dependencies), outside the repository.
struct Project {
    env: Env,
    dir: std::path::PathBuf,
}

impl Project {
    fn new(kind: &str, name: &str, lang: &str) -> Project {
        let env = Env::new();
        let dir = env.path(name);
        let out = env.kit(&[
            "plugin",
            "new",
            kind,
            name,
            "--lang",
            lang,
            "--dir",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            !dir.starts_with(repo()),
            "the project must live outside the checkout"
        );
        Project { env, dir }
    }

    fn build(&self) -> serde_json::Value {
        let mut cmd =
            self.env
                .kit_command(&["plugin", "build", self.dir.to_str().unwrap(), "--json"]);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "build failed:\n{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs ferry in the project directory, as its README says.
    fn ferry(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = self.env.kit_command(args);
        cmd.current_dir(&self.dir);
        cmd.output().unwrap()
    }
}

impl Env {
    /// ferry with the SDK under this scratch dir and the toolchains the project's scripts
    /// install (componentize-py from the venv), cargo's target dir shared across runs.
    fn kit_command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.command(args);
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| repo().join("target"))
            .join("plugin-kit-projects");
        cmd.env("FERRY_SDK_DIR", self.path("sdk"))
            .env("CARGO_TARGET_DIR", target)
            .env(
                "FERRY_COMPONENTIZE_PY",
                repo().join(".venv/bin/componentize-py"),
            );
        cmd
    }

    fn kit(&self, args: &[&str]) -> std::process::Output {
        self.kit_command(args).output().unwrap()
    }
}

#[test]
fn a_rust_parser_from_plugin_new_builds_tests_and_ingests() {
    let p = Project::new("parser", "score-lines", "rust");
    let built = p.build();
    assert_eq!(built["kind"], "parser");
    assert_eq!(built["world"], "parser-plugin");
    assert_eq!(built["witVersion"], "0.2.0");
    let wasm = built["path"].as_str().unwrap().to_owned();
    assert!(wasm.ends_with("build/score_lines.wasm"), "{wasm}");

    // inspect: settings as the plugin describes them, and the pin line.
    let (code, inspected) = p.env.json(&["plugin", "inspect", &wasm]);
    assert_eq!(code, 0, "{inspected}");
    assert_eq!(inspected["name"], "score-lines");
    assert_eq!(
        inspected["cached"], true,
        "build compiled it into the cache"
    );
    let settings = inspected["settings"].as_array().unwrap();
    assert_eq!(settings.len(), 1);
    assert_eq!(settings[0]["name"], "delimiter");
    assert_eq!(settings[0]["type"], "character");
    assert_eq!(settings[0]["default"], "\",\"", "as TOML writes it");
    let sha = inspected["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha.len(), 64);
    assert!(inspected["pin"].as_str().unwrap().contains(&sha));

    // plugin test: a file, a setting, rows and diagnostics.
    let input = p
        .env
        .write("in/scores.txt", "a;1.5\nno delimiter here\nb;2\n");
    let (code, tried) = p.env.json(&[
        "plugin",
        "test",
        &wasm,
        "--input",
        input.to_str().unwrap(),
        "--setting",
        "delimiter=;",
    ]);
    assert_eq!(code, 0, "{tried}");
    assert_eq!(tried["metrics"]["wouldPersist"], 2, "{tried}");
    assert_eq!(tried["rows"][1]["name"], "b");
    assert_eq!(tried["rows"][1]["score"].as_f64(), Some(2.0));
    assert_eq!(tried["diagnostics"][0]["code"], "bad_line");
    assert_eq!(tried["diagnostics"][0]["row"], 2);
    let out = p.ferry(&[
        "plugin",
        "test",
        &wasm,
        "--input",
        input.to_str().unwrap(),
        "--setting",
        "delimter=;",
    ]);
    assert_eq!(
        out.status.code(),
        Some(65),
        "the file fails: {}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("did you mean `delimiter`"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));

    // The project's own [[tests]] pass and touch no table; a wrong expectation fails with a diff.
    let out = p.ferry(&["test", "workflow.toml"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("2 passed, 0 failed"),
        "{}",
        stdout(&out)
    );
    assert!(!p.env.home().join("tables/score_lines").exists());
    let workflow = p.dir.join("workflow.toml");
    let mut text = std::fs::read_to_string(&workflow).unwrap();
    text.push_str(
        "\n[[tests]]\nname = \"deliberately wrong\"\ninput = { text = \"a,1\\nb,2\\n\" }\nexpect.rows = [{ name = \"a\", score = 1 }, { name = \"b\", score = 3 }]\n",
    );
    std::fs::write(&workflow, &text).unwrap();
    let out = p.ferry(&["test", "workflow.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let printed = stdout(&out);
    assert!(
        printed.contains("FAIL workflow.toml :: deliberately wrong"),
        "{printed}"
    );
    assert!(printed.contains(r#"- {"name":"b","score":3}"#), "{printed}");
    assert!(printed.contains(r#"+ {"name":"b","score":2}"#), "{printed}");
    assert!(printed.contains("2 passed, 1 failed"), "{printed}");

    // A typo in a test is a positioned error with a suggestion.
    std::fs::write(&workflow, text.replace("expect.rows", "expect.rowz")).unwrap();
    let out = p.ferry(&["test", "workflow.toml"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("workflow.toml:"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("did you mean `rows`"),
        "{}",
        stderr(&out)
    );

    // The workflow ingests the sample; rows are read back from the table.
    std::fs::write(&workflow, &text).unwrap();
    let out = p.ferry(&["run", "workflow.toml"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let table = p.env.table("score_lines");
    assert_eq!(column_text(&table, "name"), ["a", "b", "c"]);

    // Pinning: the right digest runs, a changed file is refused naming both digests.
    let pinned = text.replace(
        "score-lines = \"build/score_lines.wasm\"",
        &format!("score-lines = {{ path = {:?}, sha256 = \"{sha}\" }}", wasm),
    );
    assert_ne!(pinned, text, "the template names the plugin by path");
    std::fs::write(&workflow, &pinned).unwrap();
    let out = p.ferry(&["validate", "workflow.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let wrong = "0".repeat(64);
    std::fs::write(&workflow, pinned.replace(&sha, &wrong)).unwrap();
    let out = p.ferry(&["validate", "workflow.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&wrong) && err.contains(&sha), "{err}");
}

#[test]
fn plugin_build_shows_the_toolchain_errors_and_refuses_the_wrong_kind() {
    let p = Project::new("parser", "broken-one", "rust");
    let lib = p.dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, source.replace("fn split(", "fn split(oops ")).unwrap();
    let out = p.env.kit(&["plugin", "build", p.dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error"), "{err}");
    assert!(
        err.contains("src/lib.rs"),
        "the compiler's own error: {err}"
    );
    assert!(err.contains("the build failed"), "{err}");

    // A project that claims to be a predictor but builds a parser.
    std::fs::write(&lib, source).unwrap();
    let manifest = p.dir.join("ferry-plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("kind = \"parser\"", "kind = \"predictor\""),
    )
    .unwrap();
    let out = p.env.kit(&["plugin", "build", p.dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("says this is a predictor plugin, but"),
        "{}",
        stderr(&out)
    );

    // A core module is not a component.
    let core = p.env.write("core.wat", "(module)");
    let out = p.env.ferry(&["plugin", "inspect", core.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("core WebAssembly module, not a component"),
        "{}",
        stderr(&out)
    );
    // Not a project at all.
    let out = p
        .env
        .kit(&["plugin", "build", p.env.path("in").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not a ferry plugin project"),
        "{}",
        stderr(&out)
    );
}

/// The README's built-in plugin settings are what the plugins describe.
#[test]
fn readme_plugin_settings_match_what_the_plugins_describe() {
    let ferry = std::path::Path::new(env!("CARGO_BIN_EXE_ferry"));
    let wasm = ferry
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("wasm32-wasip2/release");
    let out = std::process::Command::new(repo().join("scripts/plugin-docs"))
        .arg("--check")
        .env("FERRY", ferry)
        .env("FERRY_PLUGIN_PATH", &wasm)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn a_python_parser_from_plugin_new_builds_tests_ingests_and_reports_what_it_raises() {
    let p = Project::new("parser", "py-scores", "python");
    assert!(p.dir.join("app.py").is_file());
    let built = p.build();
    assert_eq!(
        (built["kind"].as_str(), built["world"].as_str()),
        (Some("parser"), Some("parser-plugin"))
    );
    let wasm = built["path"].as_str().unwrap().to_owned();
    assert_eq!(built["settings"][0]["name"], "delimiter");

    let input = p.env.write("in/s.txt", "x;1\ny;oops\nz;2.5\n");
    let (code, tried) = p.env.json(&[
        "plugin",
        "test",
        &wasm,
        "--input",
        input.to_str().unwrap(),
        "--setting",
        "delimiter=;",
    ]);
    assert_eq!(code, 0, "{tried}");
    assert_eq!(tried["metrics"]["wouldPersist"], 2, "{tried}");
    assert_eq!(tried["rows"][1]["score"], 2.5);
    assert_eq!(tried["diagnostics"][0]["code"], "invalid_value", "{tried}");
    assert_eq!(tried["diagnostics"][0]["row"], 2);

    let out = p.ferry(&["test", "workflow.toml"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("0 failed"), "{}", stdout(&out));
    let out = p.ferry(&["run", "workflow.toml"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let table = p.env.table("py_scores");
    assert_eq!(
        column_text(&table, "name"),
        ["alice", "bob", "carol", "erin"]
    );

    // A plugin that raises: its traceback's last line is the file's error.
    let module = p.dir.join("py_scores.py");
    let source = std::fs::read_to_string(&module).unwrap();
    let raising = source.replacen(
        "    def push(self, chunk):\n",
        "    def push(self, chunk):\n        1 / 0\n",
        1,
    );
    assert_ne!(raising, source);
    std::fs::write(&module, raising).unwrap();
    let wasm = p.build()["path"].as_str().unwrap().to_owned();
    let (code, tried) = p
        .env
        .json(&["plugin", "test", &wasm, "--input", input.to_str().unwrap()]);
    assert_eq!(code, 65, "{tried}");
    let error = &tried["validationResult"]["error"];
    assert_eq!(error["code"], "plugin_raised", "{tried}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("ZeroDivisionError: division by zero"),
        "{tried}"
    );
}

#[test]
fn a_python_predictor_is_packaged_deployed_to_an_api_node_and_scores_by_its_formula() {
    use crate::peers::free_port;
    use crate::server::*;
    let p = Project::new("predictor", "churn-py", "python");
    let wasm = p.build()["path"].as_str().unwrap().to_owned();
    // The formula of the template's model/model.json, computed here.
    let formula =
        |tenure: f64, monthly: f64| 1.0 / (1.0 + (-(-1.5 - 0.06 * tenure + 0.035 * monthly)).exp());

    let rows = p.env.write("rows.json", r#"[{"tenure_months": 2, "monthly_charges": 110.0}, {"tenure_months": 70, "monthly_charges": 20.5}]"#);
    let (code, tried) = p.env.json(&[
        "plugin",
        "test",
        &wasm,
        "--input",
        rows.to_str().unwrap(),
        "--model",
        p.dir.join("model").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{tried}");
    let scores: Vec<f64> = tried["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!((scores[0] - formula(2.0, 110.0)).abs() < 1e-9, "{tried}");
    assert!((scores[1] - formula(70.0, 20.5)).abs() < 1e-9, "{tried}");
    assert_eq!(tried["results"][0]["label"], "churn");

    // One API node, and the controller (the project's home) with an infra pointing at it.
    let node = Env::new();
    let admin = key(&node, "node-admin", "ManageDeployments");
    let addr = format!("127.0.0.1:{}", free_port());
    let _server = Server::start_on(&node, &addr, &[]);
    let infras = std::fs::read_to_string(repo().join("workflows/infras.toml"))
        .unwrap()
        .replace(
            r#"["http://127.0.0.1:8081", "http://127.0.0.1:8082"]"#,
            &format!(r#"["http://{addr}"]"#),
        );
    let infras = p.env.write("infras.toml", infras);
    let out = p.ferry(&["infras", "apply", infras.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let workflow = p.dir.join("workflow.toml");
    let mut text = std::fs::read_to_string(&workflow).unwrap();
    text.push_str("\n[[steps]]\nname = \"deploy\"\nkind = \"deploy\"\ninput = \"package\"\ninfra = \"local-nodes\"\ndeployment = \"churn-py-local\"\n");
    std::fs::write(&workflow, text).unwrap();
    let out = p
        .env
        .kit_command(&["run", "workflow.toml", "--json"])
        .current_dir(&p.dir)
        .env("FERRY_SECRET_NODE_ADMIN_TOKEN", &admin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    let (code, answer) = call(
        "POST",
        &format!("http://{addr}/public/api/v1/churn-py/score/predict"),
        None,
        Some(br#"{"rows": [{"tenure_months": 42, "monthly_charges": 114.79}]}"#.to_vec()),
    );
    assert_eq!(code, 200, "{answer}");
    let score = answer["results"][0]["score"].as_f64().unwrap();
    assert!((score - formula(42.0, 114.79)).abs() < 1e-9, "{answer}");
}

#[test]
fn the_example_workflows_tests_pass_and_a_wrong_expectation_shows_its_diff() {
    let env = Env::new();
    let files: Vec<String> = ["bad-rows", "predictions", "logfmt"]
        .iter()
        .map(|w| {
            repo()
                .join(format!("workflows/{w}.toml"))
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec!["test"];
    args.extend(files.iter().map(String::as_str));
    let (code, report) = env.json(&args);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["passed"], 5, "{report}");
    let tables: Vec<_> = std::fs::read_dir(env.home().join("tables"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(tables.is_empty(), "ferry test writes no table: {tables:?}");
    let (_, jobs) = env.json(&["jobs", "list"]);
    assert_eq!(jobs["items"].as_array().map(Vec::len), Some(0), "{jobs}");

    // The logfmt example with one wrong expectation (its data dir made absolute, as a copy).
    let text = std::fs::read_to_string(repo().join("workflows/logfmt.toml"))
        .unwrap()
        .replace(
            "path = \"data/logs\"",
            &format!(
                "path = {:?}",
                repo().join("workflows/data/logs").display().to_string()
            ),
        )
        .replace(
            "{ level = \"info\", latency_ms = 8.5, msg = \"ok\" }",
            "{ level = \"info\", latency_ms = 9, msg = \"ok\" }",
        );
    let wrong = env.write("logfmt-wrong.toml", text);
    let out = env.ferry(&["test", wrong.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let printed = stdout(&out);
    assert!(printed.contains("FAIL"), "{printed}");
    assert!(
        printed.contains(r#"  {"latency_ms":12.0,"level":"warn","msg":"scored request 7"}"#),
        "{printed}"
    );
    assert!(
        printed.contains(r#"- {"latency_ms":9,"level":"info","msg":"ok"}"#),
        "{printed}"
    );
    assert!(
        printed.contains(r#"+ {"latency_ms":8.5,"level":"info","msg":"ok"}"#),
        "{printed}"
    );
    assert!(printed.contains("0 passed, 1 failed"), "{printed}");
}
