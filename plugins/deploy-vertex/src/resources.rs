//! Vertex AI's resources as the plugin writes and reads them: request bodies, names and
//! labels, and what an answer or an endpoint says. Pure, so it is tested natively.

use std::collections::BTreeMap;

use ferry_guest::deploy::{Target, clean_name, resource_name};
use serde_json::{Value, json};

use crate::config::Config;
use crate::split::{NEW_MODEL, Split};

/// A model's and a deployed model's display name: `<deployment>-<version>`.
pub fn display_name(deployment: &str, version: &str) -> String {
    format!("{deployment}-{version}")
}

/// Labels that tie a resource to its deployment. Label values allow only lowercase letters,
/// digits, `-` and `_`, at most 63 characters, so they are cleaned like resource names.
pub fn labels(target: &Target, version: Option<&str>) -> Value {
    let clean = |s: &str| {
        let mut v = clean_name(s);
        v.truncate(63);
        v
    };
    let mut labels = json!({
        "ferry-deployment": clean(&target.deployment),
        "stage": clean(&target.stage),
    });
    if let Some(v) = version {
        labels["ferry-version"] = json!(clean(v));
    }
    labels
}

/// `models:upload`: the version's artifacts in GCS, served by the configured container.
pub fn model_body(cfg: &Config, target: &Target, version: &str) -> Value {
    json!({
        "modelId": model_id(target, version),
        "model": {
            "displayName": display_name(&target.deployment, version),
            "artifactUri": cfg.artifact_uri(&target.deployment, version),
            "containerSpec": { "imageUri": cfg.image },
            "labels": labels(target, Some(version)),
        }
    })
}

/// Ids ferry chooses rather than Vertex AI, so that a create sent twice (a retry after an
/// answer was lost) finds the first resource (ALREADY_EXISTS) instead of making a second:
/// the deployment for its endpoint, `<deployment>-<version>` for a model. Both must start
/// with a letter.
pub fn endpoint_id(target: &Target) -> String {
    letter_first(resource_name(&target.deployment, "", 63))
}

pub fn model_id(target: &Target, version: &str) -> String {
    letter_first(resource_name(&target.deployment, version, 63))
}

fn letter_first(id: String) -> String {
    if id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id
    } else {
        let mut id = format!("f{id}");
        id.truncate(63);
        id
    }
}

/// `endpoints.create`: one endpoint per deployment, named after it.
pub fn endpoint_body(target: &Target) -> Value {
    json!({
        "displayName": target.deployment,
        "labels": labels(target, None),
    })
}

/// `:deployModel` of `model` on dedicated machines, with the split to apply (the model
/// being deployed under `"0"`).
pub fn deploy_body(
    cfg: &Config,
    target: &Target,
    version: &str,
    model: &str,
    split: &Split,
) -> Value {
    json!({
        "deployedModel": {
            "model": model,
            "displayName": display_name(&target.deployment, version),
            "dedicatedResources": {
                "machineSpec": { "machineType": cfg.machine_type },
                "minReplicaCount": cfg.min_replicas,
                "maxReplicaCount": cfg.max_replicas,
            },
        },
        "trafficSplit": split,
    })
}

/// `:undeployModel`, with the split of the models that remain.
pub fn undeploy_body(deployed_id: &str, split: &Split) -> Value {
    json!({ "deployedModelId": deployed_id, "trafficSplit": split })
}

/// The model an `UploadModelResponse` names.
pub fn uploaded_model(response: &Value) -> Option<String> {
    text(&response["model"])
}

/// The endpoint an `endpoints.create` operation answers with.
pub fn created_endpoint(response: &Value) -> Option<String> {
    text(&response["name"])
}

/// The id a `DeployModelResponse` gives the deployed model.
pub fn deployed_model_id(response: &Value) -> Option<String> {
    text(&response["deployedModel"]["id"])
}

/// The newest model or endpoint in `items` with this display name that is not one of
/// `known`: what an operation created, when its answer did not say (drongo's polled
/// operations carry no `response`).
pub fn newest_named(items: &[Value], display_name: &str, known: &[&str]) -> Option<String> {
    items
        .iter()
        .filter(|i| i["displayName"] == display_name)
        .filter_map(|i| Some((i["createTime"].as_str().unwrap_or(""), text(&i["name"])?)))
        .filter(|(_, name)| !known.contains(&name.as_str()))
        // RFC 3339 times of one server compare as text; ties go to the one listed last.
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(_, name)| name)
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// An endpoint as read back: what is deployed on it and how traffic is split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointView {
    /// In deployment order.
    pub deployed: Vec<DeployedModel>,
    /// As the endpoint states it, keys verbatim.
    pub traffic: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployedModel {
    pub id: String,
    pub model: String,
    pub display_name: String,
    pub machine_type: Option<String>,
}

impl EndpointView {
    pub fn parse(endpoint: &Value) -> EndpointView {
        let deployed = endpoint["deployedModels"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| DeployedModel {
                id: text(&d["id"]).unwrap_or_default(),
                model: text(&d["model"]).unwrap_or_default(),
                display_name: text(&d["displayName"]).unwrap_or_default(),
                machine_type: text(&d["dedicatedResources"]["machineSpec"]["machineType"]),
            })
            .collect();
        let traffic = endpoint["trafficSplit"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
            .collect();
        EndpointView { deployed, traffic }
    }

    /// Percent per deployed-model id. Vertex AI rewrites the `"0"` key of a `deployModel`
    /// split to the new model's id; drongo keeps it, so a `"0"` key counts for the most
    /// recently deployed model (listed last).
    pub fn traffic_by_id(&self) -> BTreeMap<String, u64> {
        let newest = self.deployed.last().map(|d| d.id.as_str());
        let mut by_id = BTreeMap::new();
        for (key, percent) in &self.traffic {
            let id = match (key.as_str(), newest) {
                (NEW_MODEL, Some(newest)) => newest,
                _ => key.as_str(),
            };
            *by_id.entry(id.to_owned()).or_insert(0) += percent;
        }
        by_id
    }

    /// The id of the deployed model serving `model`, if deployed and not one of `known`.
    pub fn deployment_of(&self, model: &str, known: &[&str]) -> Option<String> {
        self.deployed
            .iter()
            .rev()
            .find(|d| d.model == model && !known.contains(&d.id.as_str()))
            .map(|d| d.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::testing::target;

    fn cfg() -> Config {
        crate::config::for_tests(&[
            ("project", "p"),
            ("bucket", "b"),
            ("image", "img:1"),
            ("machine_type", "n1-standard-4"),
            ("max_replicas", "3"),
        ])
        .unwrap()
    }

    #[test]
    fn bodies() {
        let t = target(&[("v1.2", 100)]);
        let model = model_body(&cfg(), &t, "v1.2");
        assert_eq!(
            model,
            json!({"modelId": model_id(&t, "v1.2"), "model": {
                "displayName": "churn-v1.2",
                "artifactUri": "gs://b/ferry/churn/v1.2/",
                "containerSpec": {"imageUri": "img:1"},
                "labels": {"ferry-deployment": "churn", "stage": "prod", "ferry-version": "v1-2"},
            }})
        );
        // Ids start with a letter, as Vertex AI requires.
        let mut numeric = target(&[("v1", 100)]);
        numeric.deployment = "2024_churn".into();
        assert!(endpoint_id(&numeric).starts_with("f2024-churn-"));
        assert!(model_id(&numeric, "v1").starts_with("f2024-churn--v1-"));
        assert_eq!(model_id(&t, "v1"), "churn--v1");
        assert_eq!(endpoint_body(&t)["displayName"], "churn");
        let split = Split::from([("0".to_owned(), 60), ("7".to_owned(), 40)]);
        let deploy = deploy_body(
            &cfg(),
            &t,
            "v1.2",
            "projects/p/locations/l/models/1",
            &split,
        );
        assert_eq!(
            deploy["deployedModel"]["dedicatedResources"],
            json!({
                "machineSpec": {"machineType": "n1-standard-4"},
                "minReplicaCount": 1,
                "maxReplicaCount": 3,
            })
        );
        assert_eq!(deploy["trafficSplit"], json!({"0": 60, "7": 40}));
        assert_eq!(
            undeploy_body("7", &Split::new()),
            json!({"deployedModelId": "7", "trafficSplit": {}})
        );
    }

    #[test]
    fn answers() {
        let upload = json!({"@type": "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse", "model": "projects/p/locations/l/models/1", "modelVersionId": "1"});
        assert_eq!(
            uploaded_model(&upload).unwrap(),
            "projects/p/locations/l/models/1"
        );
        let endpoint = json!({"displayName": "ep1", "name": "projects/p/locations/l/endpoints/4"});
        assert_eq!(
            created_endpoint(&endpoint).unwrap(),
            "projects/p/locations/l/endpoints/4"
        );
        let deploy = json!({"deployedModel": {"model": "m/1", "id": "7"}});
        assert_eq!(deployed_model_id(&deploy).unwrap(), "7");
        assert_eq!(deployed_model_id(&json!({})), None);
    }

    #[test]
    fn what_an_operation_made_is_found_by_name() {
        let items = [
            json!({"displayName": "churn-v1", "name": "m/1", "createTime": "2026-11-26T09:20:31.258176Z"}),
            json!({"displayName": "churn-v1", "name": "m/5", "createTime": "2026-11-26T09:21:00.000000Z"}),
            json!({"displayName": "churn-v2", "name": "m/6", "createTime": "2026-11-26T09:22:00.000000Z"}),
        ];
        assert_eq!(newest_named(&items, "churn-v1", &[]).unwrap(), "m/5");
        assert_eq!(newest_named(&items, "churn-v1", &["m/5"]).unwrap(), "m/1");
        assert_eq!(newest_named(&items, "churn-v3", &[]), None);
    }

    #[test]
    fn drongos_zero_key_is_the_newest_model() {
        let view = EndpointView::parse(&json!({
            "deployedModels": [
                {"model": "m/1", "displayName": "churn-v1", "id": "7", "dedicatedResources": {"machineSpec": {"machineType": "n1-standard-2"}}},
                {"model": "m/2", "displayName": "churn-v2", "id": "9"},
            ],
            "trafficSplit": {"7": 40, "0": 60},
        }));
        assert_eq!(
            view.deployed[0].machine_type.as_deref(),
            Some("n1-standard-2")
        );
        assert_eq!(
            view.traffic_by_id(),
            BTreeMap::from([("7".to_owned(), 40), ("9".to_owned(), 60)])
        );
        assert_eq!(view.deployment_of("m/2", &[]).unwrap(), "9");
        assert_eq!(view.deployment_of("m/2", &["9"]), None);
        let empty = EndpointView::parse(&json!({"displayName": "churn"}));
        assert!(empty.deployed.is_empty() && empty.traffic_by_id().is_empty());
    }
}
