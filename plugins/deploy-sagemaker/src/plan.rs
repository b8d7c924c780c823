//! The deployer's memory and its decisions, apart from any I/O: what the plugin created (its
//! state), what it waits for (the operation's token), what a DescribeEndpoint answer means for
//! an operation and for the deployment's health.

use ferry_guest::deploy::VersionRef;
use ferry_guest::error;
use ferry_guest::types::Error;
use serde::{Deserialize, Serialize};

use crate::api::{Described, Variant, variant_name};
use crate::exports::ferry::plugin::deployer::Health;

/// Everything the plugin created that still exists, so that later calls and `delete` find it.
/// The endpoint's own name is the deployment's, so it is found even if a call failed after
/// creating it.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The endpoint, once created, until it is gone.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Models with their model data in S3. Disabling keeps them, so enabling again is quick.
    #[serde(default)]
    pub models: Vec<Model>,
    /// Endpoint configs not deleted yet, oldest first.
    #[serde(default)]
    pub configs: Vec<Config>,
    /// The number of the next config: UpdateEndpoint needs a config of a new name each time.
    #[serde(default)]
    pub next_config: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub version: String,
    pub name: String,
    /// The S3 key of its `model.tar.gz`.
    pub key: String,
    /// The image and role it was created with: a model whose infra settings changed since is
    /// made again, or an update could not pick up a fixed image.
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub role_arn: String,
}

/// What to do about the model of a version being applied.
#[derive(Debug, PartialEq)]
pub enum ModelPlan {
    Keep,
    Create,
    /// Delete it and create it again: made with another image or role, and not serving.
    Replace,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub name: String,
    pub variants: Vec<Variant>,
}

impl State {
    pub fn model(&self, version: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.version == version)
    }

    pub fn config(&self, name: &str) -> Option<&Config> {
        self.configs.iter().find(|c| c.name == name)
    }

    /// The number for a new config's name (`<deployment>-c<N>`).
    pub fn take_config_number(&mut self) -> u32 {
        self.next_config += 1;
        self.next_config
    }

    /// The models the variants of `config` use.
    pub fn models_of(&self, config: &str) -> Vec<&str> {
        self.config(config)
            .map(|c| c.variants.iter().map(|v| v.model.as_str()).collect())
            .unwrap_or_default()
    }

    /// Whether `version`'s model is to be made. A model that serves now keeps its image until
    /// it no longer serves: SageMaker cannot change a model in use.
    pub fn model_plan(
        &self,
        version: &str,
        image: &str,
        role_arn: &str,
        serving_config: Option<&str>,
    ) -> ModelPlan {
        let Some(model) = self.model(version) else {
            return ModelPlan::Create;
        };
        let current = model.image == image && model.role_arn == role_arn;
        let serving =
            serving_config.is_some_and(|c| self.models_of(c).contains(&model.name.as_str()));
        if current || serving {
            ModelPlan::Keep
        } else {
            ModelPlan::Replace
        }
    }

    /// Once the endpoint serves `config`: the other configs, and the models none of its
    /// variants uses.
    pub fn leftovers(&self, config: &str) -> (Vec<String>, Vec<Model>) {
        let used = self.models_of(config);
        let configs = self
            .configs
            .iter()
            .filter(|c| c.name != config)
            .map(|c| c.name.clone())
            .collect();
        let models = self
            .models
            .iter()
            .filter(|m| !used.contains(&m.name.as_str()))
            .cloned()
            .collect();
        (configs, models)
    }

    /// The version a live variant of `config` serves (its name, if the config is not one of
    /// ours).
    pub fn version_of(&self, config: &str, variant: &str) -> String {
        self.config(config)
            .and_then(|c| c.variants.iter().find(|v| v.name == variant))
            .map(|v| v.version.clone())
            .unwrap_or_else(|| variant.to_owned())
    }
}

/// What an operation waits for, handed back to `poll`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "wait", rename_all = "snake_case")]
pub enum Token {
    /// The endpoint to be `InService` on `config`. `previous`: the config it served before an
    /// update, which it falls back to when the update fails.
    Serving {
        endpoint: String,
        config: String,
        previous: Option<String>,
    },
    /// A `Failed` (or deleting) endpoint to be gone, to be created anew on `config`:
    /// SageMaker cannot update a failed endpoint.
    Recreate { endpoint: String, config: String },
    /// The endpoint to be gone; `delete`: then its models and their data too.
    Gone { endpoint: String, delete: bool },
}

/// The variants that serve `versions`, one each, weighted by its percent.
pub fn variants(
    versions: &[VersionRef],
    model_name: impl Fn(&str) -> String,
    instance_type: &str,
    instance_count: u32,
) -> Result<Vec<Variant>, Error> {
    let variants: Vec<Variant> = versions
        .iter()
        .map(|v| Variant {
            version: v.version.clone(),
            name: variant_name(&v.version),
            model: model_name(&v.version),
            percent: v.percent,
            instance_type: instance_type.to_owned(),
            instance_count,
        })
        .collect();
    for (i, a) in variants.iter().enumerate() {
        if let Some(b) = variants[..i]
            .iter()
            .find(|b| b.name == a.name || b.model == a.model)
        {
            return Err(error(
                "unsupported",
                format!(
                    "versions `{}` and `{}` get the same SageMaker name `{}`; SageMaker names allow only letters, digits and `-`",
                    b.version, a.version, a.model
                ),
            ));
        }
    }
    Ok(variants)
}

/// `v1 70%, v2 30%`.
pub fn split(variants: &[Variant]) -> String {
    variants
        .iter()
        .map(|v| format!("{} {}%", v.version, v.percent))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where an endpoint on its way to `config` is.
#[derive(Debug, PartialEq)]
pub enum Progress {
    Waiting(String),
    Serving,
    Failed(Error),
}

pub fn serving_progress(
    endpoint: &str,
    config: &str,
    previous: Option<&str>,
    described: Option<&Described>,
) -> Progress {
    let Some(d) = described else {
        return Progress::Failed(error(
            "endpoint_missing",
            format!("endpoint `{endpoint}` is gone while it was to serve config `{config}`"),
        ));
    };
    let reason = d
        .failure_reason
        .as_deref()
        .unwrap_or("SageMaker gave no FailureReason");
    match d.status.as_str() {
        "InService" if d.config == config => Progress::Serving,
        "InService" => Progress::Failed(error(
            "rolled_back",
            format!(
                "endpoint `{endpoint}` rolled back to config `{}` instead of serving `{config}`{}: {reason}",
                d.config,
                match previous {
                    Some(p) if p != d.config => format!(" (it was on `{p}`)"),
                    _ => String::new(),
                }
            ),
        )),
        "Failed" => Progress::Failed(error(
            "endpoint_failed",
            format!("endpoint `{endpoint}` Failed: {reason}"),
        )),
        status => Progress::Waiting(format!(
            "endpoint `{endpoint}` is {status} (on its way to config `{config}`)"
        )),
    }
}

/// How to bring the endpoint to a new config, given what DescribeEndpoint said.
#[derive(Debug, PartialEq)]
pub enum Move {
    Create,
    /// UpdateEndpoint from the config it serves now.
    Update {
        from: String,
    },
    /// It must be gone first (`delete`: DeleteEndpoint it; otherwise it is being deleted).
    Recreate {
        delete: bool,
    },
}

pub fn how_to_move(described: Option<&Described>) -> Move {
    match described {
        None => Move::Create,
        Some(d) if d.status == "Failed" => Move::Recreate { delete: true },
        Some(d) if d.status == "Deleting" => Move::Recreate { delete: false },
        Some(d) => Move::Update {
            from: d.config.clone(),
        },
    }
}

/// A config the plugin asked for already that serves `wanted`, when the endpoint is on it or
/// on its way to it: applying the same target twice then waits for (or reports) the first.
/// `Some((config, done))`.
pub fn already_asked<'a>(
    state: &'a State,
    wanted: &[Variant],
    described: Option<&Described>,
) -> Option<(&'a Config, bool)> {
    let d = described?;
    let config = state.configs.last().filter(|c| c.variants == wanted)?;
    if d.config == config.name && d.status == "InService" {
        return Some((config, true));
    }
    (d.in_progress()).then_some((config, false))
}

/// The health of a deployment, and why, from DescribeEndpoint.
#[derive(Debug, PartialEq)]
pub struct Observation {
    pub health: Health,
    pub messages: Vec<String>,
    /// Versions that get traffic now.
    pub serving: Vec<String>,
}

pub fn observe(
    desired: &[VersionRef],
    endpoint: &str,
    described: Option<&Described>,
    state: &State,
) -> Observation {
    let Some(d) = described else {
        return if desired.is_empty() {
            Observation {
                health: Health::Disabled,
                messages: Vec::new(),
                serving: Vec::new(),
            }
        } else {
            Observation {
                health: Health::Unhealthy,
                messages: vec![format!("endpoint `{endpoint}` does not exist")],
                serving: Vec::new(),
            }
        };
    };
    let total: f64 = d.serving().map(|v| v.weight).sum();
    let live: Vec<(String, f64)> = d
        .serving()
        .map(|v| {
            (
                state.version_of(&d.config, &v.name),
                100.0 * v.weight / total,
            )
        })
        .collect();
    let serving: Vec<String> = live.iter().map(|(v, _)| v.clone()).collect();
    let live_split = live
        .iter()
        .map(|(v, share)| format!("{v} {share:.0}%"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut messages = Vec::new();
    let health = match d.status.as_str() {
        "Failed" => {
            messages.push(format!(
                "endpoint `{endpoint}` Failed: {}",
                d.failure_reason
                    .as_deref()
                    .unwrap_or("no FailureReason given")
            ));
            Health::Unhealthy
        }
        "InService" if desired.is_empty() => {
            messages.push(format!(
                "the deployment is disabled but endpoint `{endpoint}` still serves {live_split}"
            ));
            Health::Degraded
        }
        "InService" => {
            let matches = desired.iter().all(|want| {
                let share = live
                    .iter()
                    .find(|(v, _)| *v == want.version)
                    .map_or(0.0, |(_, s)| *s);
                (share - f64::from(want.percent)).abs() < 0.5
            }) && live
                .iter()
                .all(|(v, _)| desired.iter().any(|w| w.version == *v));
            if let Some(reason) = &d.failure_reason {
                messages.push(format!(
                    "the last change of endpoint `{endpoint}` failed: {reason}"
                ));
            }
            if matches {
                Health::Healthy
            } else {
                let want = desired
                    .iter()
                    .map(|v| format!("{} {}%", v.version, v.percent))
                    .collect::<Vec<_>>()
                    .join(", ");
                messages.push(format!(
                    "endpoint `{endpoint}` serves {} instead of {want}",
                    if live_split.is_empty() {
                        "nothing"
                    } else {
                        &live_split
                    }
                ));
                Health::Degraded
            }
        }
        status if d.in_progress() || status == "Deleting" => {
            messages.push(format!(
                "endpoint `{endpoint}` is {status}: health is known once it settles"
            ));
            Health::Unknown
        }
        status => {
            messages.push(format!("endpoint `{endpoint}` is {status}"));
            Health::Unhealthy
        }
    };
    Observation {
        health,
        messages,
        serving,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::LiveVariant;

    fn version(v: &str, percent: u8) -> VersionRef {
        VersionRef {
            version: v.into(),
            percent,
            archive: format!("/packages/{v}.zip"),
            files: format!("/packages/{v}"),
            sha256: String::new(),
        }
    }

    fn wanted(versions: &[VersionRef]) -> Vec<Variant> {
        variants(versions, |v| format!("d-{v}"), "ml.m5.large", 1).unwrap()
    }

    fn described(status: &str, config: &str, live: &[(&str, f64)]) -> Described {
        Described {
            status: status.into(),
            config: config.into(),
            variants: live
                .iter()
                .map(|(n, w)| LiveVariant {
                    name: (*n).into(),
                    weight: *w,
                    instances: 1,
                })
                .collect(),
            failure_reason: None,
        }
    }

    fn state_with(configs: &[(&str, &[VersionRef])]) -> State {
        let mut state = State::default();
        for (name, versions) in configs {
            state.configs.push(Config {
                name: (*name).into(),
                variants: wanted(versions),
            });
            for v in *versions {
                if state.model(&v.version).is_none() {
                    state.models.push(Model {
                        version: v.version.clone(),
                        name: format!("d-{}", v.version),
                        key: format!("ferry/d/{}/model.tar.gz", v.version),
                        image: "img:1".into(),
                        role_arn: "role".into(),
                    });
                }
            }
        }
        state
    }

    #[test]
    fn one_variant_per_version_with_safe_names() {
        let vs = wanted(&[version("v1", 70), version("1.2_b", 30)]);
        assert_eq!(vs[1].name, "1-2-b");
        assert_eq!(vs[1].model, "d-1.2_b");
        assert_eq!(split(&vs), "v1 70%, 1.2_b 30%");
        let clash = variants(
            &[version("1.0", 50), version("1-0", 50)],
            |v| v.into(),
            "ml.m5.large",
            1,
        );
        assert_eq!(clash.unwrap_err().code, "unsupported");
    }

    #[test]
    fn the_state_round_trips_and_old_states_read() {
        let state = state_with(&[("d-c1", &[version("v1", 100)])]);
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<State>(&json).unwrap(), state);
        assert_eq!(
            serde_json::from_str::<State>("{}").unwrap(),
            State::default()
        );
        let token = Token::Serving {
            endpoint: "d".into(),
            config: "d-c2".into(),
            previous: Some("d-c1".into()),
        };
        assert_eq!(
            serde_json::to_string(&token).unwrap(),
            r#"{"wait":"serving","endpoint":"d","config":"d-c2","previous":"d-c1"}"#
        );
    }

    #[test]
    fn leftovers_are_other_configs_and_unused_models() {
        let mut state = state_with(&[
            ("d-c1", &[version("v1", 100)]),
            ("d-c2", &[version("v1", 50), version("v2", 50)]),
            ("d-c3", &[version("v2", 100)]),
        ]);
        let (configs, models) = state.leftovers("d-c3");
        assert_eq!(configs, ["d-c1", "d-c2"]);
        assert_eq!(
            models
                .iter()
                .map(|m| m.version.as_str())
                .collect::<Vec<_>>(),
            ["v1"]
        );
        assert_eq!(state.take_config_number(), 1);
        assert_eq!(state.version_of("d-c2", "v2"), "v2");
        assert_eq!(state.version_of("elsewhere", "blue"), "blue");
    }

    #[test]
    fn models_follow_the_image_unless_they_serve() {
        let state = state_with(&[
            ("d-c1", &[version("v1", 100)]),
            ("d-c2", &[version("v2", 100)]),
        ]);
        assert_eq!(
            state.model_plan("v3", "img:1", "role", Some("d-c1")),
            ModelPlan::Create
        );
        assert_eq!(
            state.model_plan("v1", "img:1", "role", Some("d-c1")),
            ModelPlan::Keep
        );
        // A fixed image after a rollback to d-c1: v2's model is made again, v1's serves on.
        assert_eq!(
            state.model_plan("v2", "img:2", "role", Some("d-c1")),
            ModelPlan::Replace
        );
        assert_eq!(
            state.model_plan("v1", "img:2", "role", Some("d-c1")),
            ModelPlan::Keep
        );
        assert_eq!(
            state.model_plan("v1", "img:1", "role2", None),
            ModelPlan::Replace
        );
    }

    #[test]
    fn progress_of_a_create_or_update() {
        let mut d = described("Creating", "d-c1", &[]);
        assert!(matches!(
            serving_progress("d", "d-c1", None, Some(&d)),
            Progress::Waiting(m) if m == "endpoint `d` is Creating (on its way to config `d-c1`)"
        ));
        d.status = "InService".into();
        assert_eq!(
            serving_progress("d", "d-c1", None, Some(&d)),
            Progress::Serving
        );

        // An update that SageMaker rolled back: in service, on the old config.
        d.failure_reason =
            Some("The image 'bad' does not exist or the role lacks permission to pull it.".into());
        let Progress::Failed(e) = serving_progress("d", "d-c2", Some("d-c1"), Some(&d)) else {
            panic!()
        };
        assert_eq!(e.code, "rolled_back");
        assert_eq!(
            e.message,
            "endpoint `d` rolled back to config `d-c1` instead of serving `d-c2`: \
             The image 'bad' does not exist or the role lacks permission to pull it."
        );

        d.status = "Failed".into();
        let Progress::Failed(e) = serving_progress("d", "d-c1", None, Some(&d)) else {
            panic!()
        };
        assert_eq!(e.code, "endpoint_failed");
        assert!(
            e.message
                .ends_with("does not exist or the role lacks permission to pull it.")
        );

        let Progress::Failed(e) = serving_progress("d", "d-c1", None, None) else {
            panic!()
        };
        assert_eq!(e.code, "endpoint_missing");
    }

    #[test]
    fn moves() {
        assert_eq!(how_to_move(None), Move::Create);
        let d = described("InService", "d-c1", &[]);
        assert_eq!(
            how_to_move(Some(&d)),
            Move::Update {
                from: "d-c1".into()
            }
        );
        let d = described("Failed", "d-c1", &[]);
        assert_eq!(how_to_move(Some(&d)), Move::Recreate { delete: true });
        let d = described("Deleting", "d-c1", &[]);
        assert_eq!(how_to_move(Some(&d)), Move::Recreate { delete: false });
    }

    #[test]
    fn applying_the_same_target_again_changes_nothing() {
        let v1 = [version("v1", 100)];
        let state = state_with(&[("d-c1", &v1)]);
        let on = described("InService", "d-c1", &[("v1", 100.0)]);
        let (c, done) = already_asked(&state, &wanted(&v1), Some(&on)).unwrap();
        assert_eq!((c.name.as_str(), done), ("d-c1", true));
        let going = described("Creating", "d-c1", &[]);
        assert!(!already_asked(&state, &wanted(&v1), Some(&going)).unwrap().1);
        // A different split, or a rollback away from the config: a new config is needed.
        assert!(already_asked(&state, &wanted(&[version("v1", 90)]), Some(&on)).is_none());
        let rolled = described("InService", "d-c0", &[("v1", 100.0)]);
        assert!(already_asked(&state, &wanted(&v1), Some(&rolled)).is_none());
        assert!(already_asked(&state, &wanted(&v1), None).is_none());
    }

    #[test]
    fn health() {
        let split = [version("v1", 70), version("v2", 30)];
        let state = state_with(&[("d-c1", &split)]);
        let ok = described("InService", "d-c1", &[("v1", 70.0), ("v2", 30.0)]);
        let o = observe(&split, "d", Some(&ok), &state);
        assert_eq!(o.health, Health::Healthy);
        assert_eq!(o.serving, ["v1", "v2"]);
        assert!(o.messages.is_empty());

        // Weights are relative: 0.7/0.3 is the same split.
        let relative = described("InService", "d-c1", &[("v1", 0.7), ("v2", 0.3)]);
        assert_eq!(
            observe(&split, "d", Some(&relative), &state).health,
            Health::Healthy
        );

        let old = described("InService", "d-c1", &[("v1", 1.0)]);
        let o = observe(&split, "d", Some(&old), &state);
        assert_eq!(o.health, Health::Degraded);
        assert_eq!(
            o.messages,
            ["endpoint `d` serves v1 100% instead of v1 70%, v2 30%"]
        );

        let updating = described("Updating", "d-c1", &[("v1", 1.0)]);
        let o = observe(&split, "d", Some(&updating), &state);
        assert_eq!(o.health, Health::Unknown);
        assert_eq!(o.serving, ["v1"]);

        let mut failed = described("Failed", "d-c1", &[]);
        failed.failure_reason = Some("The image 'x' does not exist".into());
        failed.variants = ok.variants.clone();
        let o = observe(&split, "d", Some(&failed), &state);
        assert_eq!(o.health, Health::Unhealthy);
        assert!(o.serving.is_empty());
        assert_eq!(
            o.messages,
            ["endpoint `d` Failed: The image 'x' does not exist"]
        );

        assert_eq!(observe(&[], "d", None, &state).health, Health::Disabled);
        let o = observe(&split, "d", None, &state);
        assert_eq!(o.health, Health::Unhealthy);
        assert_eq!(o.messages, ["endpoint `d` does not exist"]);
        assert_eq!(
            observe(&[], "d", Some(&ok), &state).health,
            Health::Degraded
        );
    }
}
