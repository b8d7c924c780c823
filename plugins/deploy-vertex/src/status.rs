//! `status`: the endpoint as it is, compared with what the host wants. The deployed models
//! and the traffic split are read from the endpoint itself, not from the plugin's state, so
//! changes made outside ferry show.

use ferry_guest::deploy::Target;
use ferry_guest::http::Transport;
use ferry_guest::types::Error;

use crate::api::Vertex;
use crate::config::Config;
use crate::exports::ferry::plugin::deployer::{CloudResource, Health, Observed};
use crate::plan::State;
use crate::resources::{DeployedModel, EndpointView};

pub fn observe(
    cfg: &Config,
    transport: &dyn Transport,
    target: &Target,
) -> Result<Observed, Error> {
    let state: State = target.state()?;
    let vertex = Vertex::new(cfg, transport);
    let seen = match &state.endpoint {
        Some(name) => Some(Seen {
            name,
            view: vertex
                .get("checking the endpoint", name)?
                .map(|e| EndpointView::parse(&e)),
            url: vertex.predict_url(name),
        }),
        None => None,
    };
    Ok(judge(&state, target, seen))
}

/// The endpoint as read: `view` is `None` when it does not exist.
pub struct Seen<'a> {
    pub name: &'a str,
    pub view: Option<EndpointView>,
    pub url: String,
}

pub fn judge(state: &State, target: &Target, seen: Option<Seen>) -> Observed {
    let nothing_wanted = target.versions.is_empty();
    let mut observed = Observed {
        health: Health::Unknown,
        messages: Vec::new(),
        serving: Vec::new(),
        urls: Vec::new(),
        resources: Vec::new(),
    };
    let Some(seen) = seen else {
        if nothing_wanted {
            observed.health = Health::Disabled;
        } else {
            observed.health = Health::Unhealthy;
            observed
                .messages
                .push("no endpoint: the deployment has not been applied".to_owned());
        }
        return observed;
    };
    let Some(view) = seen.view else {
        observed.health = if nothing_wanted {
            Health::Disabled
        } else {
            Health::Unhealthy
        };
        let message = format!("endpoint {} not found (deleted outside ferry?)", seen.name);
        observed.resources.push(CloudResource {
            kind: "endpoint".into(),
            name: seen.name.to_owned(),
            status: "not found".into(),
            versions: Vec::new(),
            url: None,
            message: Some(message.clone()),
        });
        observed.messages.push(message);
        return observed;
    };

    let traffic = view.traffic_by_id();
    let mut models = Vec::new();
    for d in &view.deployed {
        let version = version_of(state, &target.deployment, d);
        let percent = traffic.get(&d.id).copied().unwrap_or(0);
        if percent > 0
            && let Some(v) = &version
            && !observed.serving.contains(v)
        {
            observed.serving.push(v.clone());
        }
        models.push(CloudResource {
            kind: "deployed-model".into(),
            name: d.id.clone(),
            status: format!("{percent}% of traffic"),
            versions: version.iter().cloned().collect(),
            url: None,
            message: Some(match &d.machine_type {
                Some(machine) => format!("{} on {machine}", d.model),
                None => d.model.clone(),
            }),
        });
        let label = version
            .clone()
            .unwrap_or_else(|| match d.display_name.as_str() {
                "" => format!("deployed model {}", d.id),
                name => name.to_owned(),
            });
        if !version
            .as_ref()
            .is_some_and(|v| target.versions.iter().any(|w| w.version == *v))
        {
            observed.messages.push(format!(
                "{label} is deployed but not desired ({percent}% of traffic)"
            ));
        }
    }
    for want in &target.versions {
        let deployed = models.iter().filter(|m| m.versions.contains(&want.version));
        let ids: Vec<&str> = deployed.map(|m| m.name.as_str()).collect();
        let percent: u64 = ids.iter().filter_map(|id| traffic.get(*id)).sum();
        if ids.is_empty() {
            observed
                .messages
                .push(format!("{} is not deployed", want.version));
        } else if percent != u64::from(want.percent) {
            observed.messages.push(format!(
                "{} gets {percent}% of traffic, not {}%",
                want.version, want.percent
            ));
        }
    }
    observed.health = match (nothing_wanted, view.deployed.is_empty()) {
        (true, true) => Health::Disabled,
        (true, false) => Health::Degraded,
        (false, true) => Health::Unhealthy,
        (false, false) if observed.messages.is_empty() => Health::Healthy,
        (false, false) => Health::Degraded,
    };
    if !observed.serving.is_empty() {
        observed.urls.push(seen.url.clone());
    }
    observed.resources.push(CloudResource {
        kind: "endpoint".into(),
        name: seen.name.to_owned(),
        status: match view.deployed.len() {
            0 => "no model deployed".to_owned(),
            1 => "1 model deployed".to_owned(),
            n => format!("{n} models deployed"),
        },
        versions: observed.serving.clone(),
        url: Some(seen.url),
        message: None,
    });
    observed.resources.extend(models);
    observed
}

/// The version a deployed model serves: by the ids and models the plugin made, else by its
/// display name (`<deployment>-<version>`); `None` for a model deployed outside ferry.
fn version_of(state: &State, deployment: &str, d: &DeployedModel) -> Option<String> {
    state
        .versions
        .iter()
        .find(|v| v.deployed.as_deref() == Some(d.id.as_str()))
        .or_else(|| (state.versions.iter()).find(|v| v.model.as_deref() == Some(d.model.as_str())))
        .map(|v| v.version.clone())
        .or_else(|| {
            d.display_name
                .strip_prefix(&format!("{deployment}-"))
                .map(str::to_owned)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::VersionState;
    use ferry_guest::testing::target;
    use serde_json::json;

    fn state() -> State {
        State {
            endpoint: Some("e/4".into()),
            versions: vec![
                VersionState {
                    version: "v1".into(),
                    model: Some("m/1".into()),
                    deployed: Some("7".into()),
                    ..Default::default()
                },
                VersionState {
                    version: "v2".into(),
                    model: Some("m/2".into()),
                    deployed: Some("9".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn seen(endpoint: serde_json::Value) -> Option<Seen<'static>> {
        Some(Seen {
            name: "e/4",
            view: Some(EndpointView::parse(&endpoint)),
            url: "http://v/v1/e/4:predict".into(),
        })
    }

    fn both(split: serde_json::Value) -> serde_json::Value {
        json!({
            "deployedModels": [
                {"id": "7", "model": "m/1", "displayName": "churn-v1"},
                {"id": "9", "model": "m/2", "displayName": "churn-v2"},
            ],
            "trafficSplit": split,
        })
    }

    #[test]
    fn the_desired_split_is_healthy_with_drongos_zero_key() {
        let o = judge(
            &state(),
            &target(&[("v1", 30), ("v2", 70)]),
            seen(both(json!({"7": 30, "0": 70}))),
        );
        assert_eq!(o.health, Health::Healthy, "{:?}", o.messages);
        assert_eq!(o.serving, ["v1", "v2"]);
        assert_eq!(o.urls, ["http://v/v1/e/4:predict"]);
        assert_eq!(o.resources.len(), 3);
        assert_eq!(o.resources[2].status, "70% of traffic");
    }

    #[test]
    fn another_split_or_other_versions_are_degraded() {
        let o = judge(
            &state(),
            &target(&[("v1", 50), ("v2", 50)]),
            seen(both(json!({"7": 30, "9": 70}))),
        );
        assert_eq!(o.health, Health::Degraded);
        assert_eq!(
            o.messages,
            [
                "v1 gets 30% of traffic, not 50%",
                "v2 gets 70% of traffic, not 50%"
            ]
        );
        let o = judge(
            &state(),
            &target(&[("v2", 100)]),
            seen(both(json!({"9": 100}))),
        );
        assert_eq!(o.health, Health::Degraded);
        assert_eq!(
            o.messages,
            ["v1 is deployed but not desired (0% of traffic)"]
        );
        assert_eq!(o.serving, ["v2"]);
    }

    #[test]
    fn nothing_deployed_or_no_endpoint() {
        let empty = json!({"deployedModels": [], "trafficSplit": {}});
        let o = judge(&state(), &target(&[("v1", 100)]), seen(empty.clone()));
        assert_eq!(
            (o.health, o.messages.as_slice()),
            (Health::Unhealthy, &["v1 is not deployed".to_owned()][..])
        );
        assert!(o.urls.is_empty());
        let o = judge(&state(), &target(&[]), seen(empty));
        assert_eq!(o.health, Health::Disabled);
        let gone = Some(Seen {
            name: "e/4",
            view: None,
            url: String::new(),
        });
        let o = judge(&state(), &target(&[("v1", 100)]), gone);
        assert_eq!(o.health, Health::Unhealthy);
        assert!(o.messages[0].contains("not found"));
        assert_eq!(
            judge(&State::default(), &target(&[]), None).health,
            Health::Disabled
        );
        assert_eq!(
            judge(&State::default(), &target(&[("v1", 100)]), None).health,
            Health::Unhealthy
        );
    }

    #[test]
    fn models_deployed_outside_ferry_are_named() {
        let endpoint = json!({
            "deployedModels": [{"id": "3", "model": "m/x", "displayName": "hand-made"}],
            "trafficSplit": {"3": 100},
        });
        let o = judge(
            &State::default(),
            &target(&[]),
            Some(Seen {
                name: "e/4",
                view: Some(EndpointView::parse(&endpoint)),
                url: "u".into(),
            }),
        );
        assert_eq!(o.health, Health::Degraded);
        assert_eq!(
            o.messages,
            ["hand-made is deployed but not desired (100% of traffic)"]
        );
        assert!(o.serving.is_empty());
    }
}
