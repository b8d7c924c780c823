//! `{{name}}`: a ferry deployer. It serves a service on one ferry API node (`ferry serve`) over
//! the node API, as the built-in deploy-static does for a list of nodes:
//!
//! - `apply` pushes the version's package (`PUT /v1/node/services/{service}`, the zip as the
//!   body; the node verifies it and swaps it in), or, when the deployment is disabled, drops
//!   the service there (`DELETE`);
//! - `poll` asks the node what it serves (`GET /v1/node/services`) until it serves the
//!   version pushed. A node swaps within the PUT, so the first poll finds it; a cloud's
//!   deployer starts work the same way in `apply` and checks on it in `poll`, the operation's
//!   `token` saying what it waits for;
//! - `status` reports what the node serves: HEALTHY, UNHEALTHY, DISABLED;
//! - `delete` drops the service (a 404, nothing there, counts as done).
//!
//! Every call runs in a fresh instance; a deployer that creates cloud resources returns their
//! names as the operation's `state`, which ferry stores and hands back in `target.state`.
//! This one needs none: the node is the infra's `endpoint` setting. The node's admin key is a
//! credential the infra grants for the node's host: ferry adds it to each request, the plugin
//! never sees it.
//!
//! Settings: `endpoint` (required, the node's base URL), `retries` (default 2).
//!
//! [`apply`], [`poll`], [`status`] and [`delete`] send through a [`Transport`] — `wasi:http`
//! in the component, a script in the unit tests (`cargo test`).

use ferry_guest::about::Setting;
use ferry_guest::deploy::{Operation, Target};
use ferry_guest::http::{self, Endpoint, Method, Request, Retry, Transport, Wasi};
use ferry_guest::settings::INVALID_SETTING;
use ferry_guest::types::{Description, Error, SettingType};
use ferry_guest::{Settings, error};
use serde_json::Value;

// Bindings for the world this component implements (`wit/` holds the WIT package). The shared
// types and host functions come from ferry-guest, and so do the deployer interface's records,
// so its helpers build them directly.
wit_bindgen::generate!({
    world: "deployer-plugin",
    path: "wit",
    with: {
        "ferry:plugin/types@{{wit_version}}": ferry_guest::types,
        "ferry:plugin/host@{{wit_version}}": ferry_guest::host,
        "ferry:plugin/deployer@{{wit_version}}/version-ref": ferry_guest::deploy::VersionRef,
        "ferry:plugin/deployer@{{wit_version}}/target": ferry_guest::deploy::Target,
        "ferry:plugin/deployer@{{wit_version}}/operation": ferry_guest::deploy::Operation,
    },
});

use exports::ferry::plugin::about;
use exports::ferry::plugin::deployer::{self, CloudResource, Health, Observed};

/// Every setting the plugin takes (an infra's `settings`); anything else is refused.
const SETTINGS: &[Setting] = &[
    Setting::required("endpoint", SettingType::String, "the API node's base URL, http://host:port"),
    // A node that is down is reported, not waited on.
    Setting::retries("2"),
];

struct Plugin;

impl about::Guest for Plugin {
    fn describe() -> Description {
        ferry_guest::describe!(
            Deployer,
            "serves service packages on one ferry API node over its node API",
            SETTINGS
        )
    }
}

impl deployer::Guest for Plugin {
    fn apply(target: Target) -> Result<Operation, Error> {
        let config = Config::load()?;
        apply(&config.node, &Wasi(config.retry), &target)
    }

    fn poll(target: Target, operation: Operation) -> Result<Operation, Error> {
        let config = Config::load()?;
        poll(&config.node, &Wasi(config.retry), &target, operation)
    }

    fn status(target: Target) -> Result<Observed, Error> {
        let config = Config::load()?;
        status(&config.node, &Wasi(config.retry), &target)
    }

    fn delete(target: Target) -> Result<Operation, Error> {
        let config = Config::load()?;
        delete(&config.node, &Wasi(config.retry), &target)
    }
}

export!(Plugin);

#[derive(Debug)]
struct Config {
    node: Endpoint,
    retry: Retry,
}

impl Config {
    /// The infra's settings; a bad one fails the call, naming it.
    fn load() -> Result<Config, Error> {
        Config::from_settings(&Settings::load(SETTINGS)?)
    }

    fn from_settings(settings: &Settings) -> Result<Config, Error> {
        let url = settings.required("endpoint")?;
        let node = Endpoint::parse(&url).map_err(|m| error(INVALID_SETTING, m))?;
        Ok(Config { node, retry: settings.retry(2)? })
    }
}

/// Starts serving `target.versions` on the node: pushes the package, or drops the service
/// when the deployment is disabled.
fn apply(node: &Endpoint, transport: &dyn Transport, target: &Target) -> Result<Operation, Error> {
    let Some(version) = target.single_version("API nodes")? else {
        remove(node, transport, target)?;
        return Ok(done(format!("service removed from {}", node.url())));
    };
    let zip = std::fs::read(&version.archive).map_err(|e| {
        error("package_unreadable", format!("cannot read {}: {e}", version.archive))
    })?;
    let push = Request::new(Method::Put, node, service_path(target)).body("application/zip", zip);
    call(transport, push)?;
    Ok(Operation {
        // What `poll` waits for.
        token: version.version.clone(),
        done: false,
        message: format!(
            "pushed {} to {}; waiting until it serves it",
            version.version,
            node.url()
        ),
        state: String::new(),
    })
}

/// Done once the node serves the version `apply` pushed (the token); ferry polls again after
/// the infra's `poll_interval` until then, and fails the operation after its `timeout`.
fn poll(
    node: &Endpoint,
    transport: &dyn Transport,
    target: &Target,
    operation: Operation,
) -> Result<Operation, Error> {
    let served = serving(node, transport, &target.service)?;
    if served.contains(&operation.token) {
        return Ok(done(format!("{} serving on {}", operation.token, node.url())));
    }
    let now = if served.is_empty() { "nothing".to_owned() } else { served.join(", ") };
    let message = format!("waiting for {} to serve {} (serves {now})", node.url(), operation.token);
    Ok(Operation { message, ..operation })
}

/// What the node serves now, judged against what the target wants.
fn status(node: &Endpoint, transport: &dyn Transport, target: &Target) -> Result<Observed, Error> {
    let wanted = target.single_version("API nodes")?.map(|v| v.version.as_str());
    let url = public_url(node, &target.service);
    let (health, state, served, problem) = match serving(node, transport, &target.service) {
        Ok(served) => {
            let health = match wanted {
                Some(w) if served.iter().any(|v| v == w) => Health::Healthy,
                None if served.is_empty() => Health::Disabled,
                _ => Health::Unhealthy,
            };
            let state = match served.first() {
                Some(v) => format!("serving {v}"),
                None => "not serving".to_owned(),
            };
            (health, state, served, None)
        }
        // Unreachable, or an error answer: nothing can be said of what it serves.
        Err(e) => {
            let health = if wanted.is_some() { Health::Unhealthy } else { Health::Unknown };
            (health, "unreachable".to_owned(), Vec::new(), Some(e.message))
        }
    };
    let messages = match health {
        Health::Healthy | Health::Disabled => Vec::new(),
        _ => vec![format!(
            "node {}: {state}{}",
            node.url(),
            problem.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()
        )],
    };
    Ok(Observed {
        health,
        messages,
        serving: served.clone(),
        urls: wanted.map(|_| url.clone()).into_iter().collect(),
        resources: vec![CloudResource {
            kind: "node".into(),
            name: node.url(),
            status: state,
            versions: served,
            url: Some(url),
            message: problem,
        }],
    })
}

/// Drops the service from the node.
fn delete(node: &Endpoint, transport: &dyn Transport, target: &Target) -> Result<Operation, Error> {
    remove(node, transport, target)?;
    Ok(done(format!("service removed from {}", node.url())))
}

/// `DELETE /v1/node/services/{service}`; a 404 (nothing there) is nothing to do.
fn remove(node: &Endpoint, transport: &dyn Transport, target: &Target) -> Result<(), Error> {
    match call(transport, Request::new(Method::Delete, node, service_path(target))) {
        Err(e) if e.code != "not_found" => Err(e),
        _ => Ok(()),
    }
}

/// The versions of `service` the node serves.
fn serving(
    node: &Endpoint,
    transport: &dyn Transport,
    service: &str,
) -> Result<Vec<String>, Error> {
    let body = call(transport, Request::get(node, "/v1/node/services".into()))?;
    let items = body["items"].as_array().into_iter().flatten();
    let versions = items.filter(|i| i["service"] == service).filter_map(|i| i["version"].as_str());
    Ok(versions.map(str::to_owned).collect())
}

/// Sends `request` (with the transport's retries). An error answer becomes an error with the
/// node's own code and message (`{"error": {"code", "message"}}`; a 404 is always
/// `not_found`); no answer is the transport's `unreachable`.
fn call(transport: &dyn Transport, request: Request) -> Result<Value, Error> {
    let response = transport.send(&request)?;
    let body: Value = serde_json::from_slice(&response.body).unwrap_or_default();
    if response.is_success() {
        return Ok(body);
    }
    let code = match response.status {
        404 => "not_found",
        _ => body["error"]["code"].as_str().unwrap_or("node_error"),
    };
    let message = match body["error"]["message"].as_str() {
        Some(message) => message.to_owned(),
        None => http::excerpt(&response.text()),
    };
    let node = request.endpoint.url();
    Err(error(code, format!("node {node} answered {}: {message}", response.status)))
}

/// A finished operation. No state to keep: the node is in the infra's settings.
fn done(message: String) -> Operation {
    Operation { token: String::new(), done: true, message, state: String::new() }
}

/// Where the node takes, and drops, the service's package.
fn service_path(target: &Target) -> String {
    format!("/v1/node/services/{}", http::encode(&target.service, false))
}

/// Where the node serves the service's public endpoints.
fn public_url(node: &Endpoint, service: &str) -> String {
    format!("{}/public/api/v1/{}/", node.url(), http::encode(service, false))
}

// Unit tests of every call against a scripted node run natively: `cargo test`. Each script
// lists the requests expected, in order, with the node's answers.
#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::testing::{self, Script, Step, header};
    use ferry_guest::types::PluginKind;
    use serde_json::json;

    const NODE: &str = "http://node.test:8081";

    fn node() -> Endpoint {
        Endpoint::parse(NODE).unwrap()
    }

    /// A deployment of service `churn` wanting `versions`, each with a package zip on disk.
    fn target(versions: &[(&str, u8)]) -> Target {
        let mut target = testing::target(versions);
        for v in &mut target.versions {
            let path = testing::scratch("{{name}}", &format!("{}.zip", v.version));
            std::fs::write(&path, format!("zip of {}", v.version)).unwrap();
            v.archive = path.to_string_lossy().into_owned();
        }
        target
    }

    fn serves(versions: &[&str]) -> Value {
        let mut items = vec![json!({"service": "other", "version": "v9"})];
        items.extend(versions.iter().map(|v| json!({"service": "churn", "version": v})));
        json!({ "items": items })
    }

    #[test]
    fn apply_pushes_the_package_and_poll_waits_until_it_is_served() {
        let script = Script::new(vec![
            ("PUT http://node.test:8081/v1/node/services/churn", 200, json!({"version": "v2"})),
            ("GET http://node.test:8081/v1/node/services", 200, serves(&["v1"])),
            ("GET http://node.test:8081/v1/node/services", 200, serves(&["v2"])),
        ]);
        let t = target(&[("v2", 100)]);
        let op = apply(&node(), &script, &t).unwrap();
        assert_eq!((op.done, op.token.as_str()), (false, "v2"));
        let put = script.request("PUT");
        assert_eq!(put.body, b"zip of v2");
        assert_eq!(header(&put, "content-type"), Some("application/zip"));
        let op = poll(&node(), &script, &t, op).unwrap();
        assert_eq!(
            (op.done, op.message.as_str()),
            (false, "waiting for http://node.test:8081 to serve v2 (serves v1)")
        );
        let op = poll(&node(), &script, &t, op).unwrap();
        script.finished();
        assert_eq!((op.done, op.message.as_str()), (true, "v2 serving on http://node.test:8081"));
    }

    #[test]
    fn disabling_drops_the_service_even_if_it_is_not_there() {
        for (status, body) in [
            (200, json!({"undeployed": "churn"})),
            (404, json!({"error": {"code": "not_found", "message": "no service churn"}})),
        ] {
            let script = Script::new(vec![(
                "DELETE http://node.test:8081/v1/node/services/churn",
                status,
                body,
            )]);
            let op = apply(&node(), &script, &target(&[])).unwrap();
            script.finished();
            assert_eq!(
                (op.done, op.message.as_str()),
                (true, "service removed from http://node.test:8081")
            );
        }
    }

    #[test]
    fn the_nodes_own_error_and_its_silence_fail_the_apply() {
        let denied =
            json!({"error": {"code": "unauthorized", "message": "no valid node admin key"}});
        let script = Script::new(vec![("PUT", 401, denied)]);
        let e = apply(&node(), &script, &target(&[("v1", 100)])).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("unauthorized", "node http://node.test:8081 answered 401: no valid node admin key")
        );
        let script = Script::of([Step::fails("PUT", "unreachable", "connection refused")]);
        let e = apply(&node(), &script, &target(&[("v1", 100)])).unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("unreachable", "connection refused"));
        let e = apply(&node(), &Script::default(), &target(&[("v1", 50), ("v2", 50)])).unwrap_err();
        assert_eq!(e.code, "unsupported", "one version at a time: {}", e.message);
    }

    #[test]
    fn status_judges_what_the_node_serves() {
        let ask = |versions: &[(&str, u8)], answer: Step| {
            let script = Script::of([answer]);
            let seen = status(&node(), &script, &target(versions)).unwrap();
            script.finished();
            seen
        };
        let list = |versions: &[&str]| Step::json("GET", 200, &serves(versions));
        let seen = ask(&[("v2", 100)], list(&["v2"]));
        assert_eq!(
            (seen.health, seen.serving.as_slice()),
            (Health::Healthy, &["v2".to_owned()][..])
        );
        assert_eq!(seen.urls, ["http://node.test:8081/public/api/v1/churn/"]);
        assert_eq!(seen.resources[0].status, "serving v2");
        let seen = ask(&[("v2", 100)], list(&["v1"]));
        assert_eq!(
            (seen.health, seen.messages.as_slice()),
            (Health::Unhealthy, &["node http://node.test:8081: serving v1".to_owned()][..])
        );
        let seen = ask(&[], list(&[]));
        assert_eq!((seen.health, seen.urls.len()), (Health::Disabled, 0));
        let seen = ask(&[("v2", 100)], Step::fails("GET", "unreachable", "refused"));
        assert_eq!(seen.health, Health::Unhealthy);
        assert_eq!(seen.messages, ["node http://node.test:8081: unreachable (refused)"]);
    }

    #[test]
    fn delete_drops_the_service() {
        let script = Script::new(vec![(
            "DELETE http://node.test:8081/v1/node/services/churn",
            200,
            json!({}),
        )]);
        let op = delete(&node(), &script, &target(&[("v1", 100)])).unwrap();
        script.finished();
        assert!(op.done && op.state.is_empty(), "{op:?}");
        let script = Script::new(vec![(
            "DELETE",
            500,
            json!({"error": {"code": "io", "message": "disk full"}}),
        )]);
        assert_eq!(delete(&node(), &script, &target(&[])).unwrap_err().code, "io");
    }

    #[test]
    fn the_settings_table_is_what_the_config_reads() {
        // Every default given back changes nothing; `endpoint` left out is named.
        ferry_guest::testing::check_settings(
            SETTINGS,
            &[("endpoint", NODE)],
            Config::from_settings,
        );
        let read =
            |pairs: &[(&str, &str)]| Config::from_settings(&Settings::from_pairs(SETTINGS, pairs)?);
        assert_eq!(read(&[("endpoint", "http://a:1/")]).unwrap().node.url(), "http://a:1");
        let e = read(&[("endpoint", "a:1")]).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (INVALID_SETTING, "endpoint `a:1` must start with http:// or https://")
        );
        let d = <Plugin as about::Guest>::describe();
        assert_eq!((d.name.as_str(), d.kind), ("{{name}}", PluginKind::Deployer));
    }
}
