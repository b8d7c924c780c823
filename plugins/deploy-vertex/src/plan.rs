//! The state machine's decisions, as pure functions of what the plugin remembers (`State`)
//! and what the host wants: which step comes next, and the traffic split each step sends.
//! One step at a time, because every step is a long-running operation that may have to be
//! waited for across calls; after each one the state says exactly what exists.

use serde::{Deserialize, Serialize};

use crate::split::{self, NEW_MODEL, Split};

/// What the plugin remembers between calls (carried by the host as JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// `projects/…/endpoints/…`, once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Every version with something in the cloud, desired or not: models stay uploaded while
    /// a version is not served, for a quick rollback or re-enable, until `delete`.
    #[serde(default)]
    pub versions: Vec<VersionState>,
    /// The split last set on the endpoint, by deployed-model id.
    #[serde(default)]
    pub traffic: Split,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionState {
    pub version: String,
    /// GCS object names uploaded for the model, deleted with it.
    #[serde(default)]
    pub objects: Vec<String>,
    /// `projects/…/models/…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The deployed-model id on the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed: Option<String>,
}

impl State {
    pub fn version(&self, version: &str) -> Option<&VersionState> {
        self.versions.iter().find(|v| v.version == version)
    }

    /// The entry of `version`, made if missing.
    pub fn version_mut(&mut self, version: &str) -> &mut VersionState {
        let i = match self.versions.iter().position(|v| v.version == version) {
            Some(i) => i,
            None => {
                self.versions.push(VersionState {
                    version: version.to_owned(),
                    ..VersionState::default()
                });
                self.versions.len() - 1
            }
        };
        &mut self.versions[i]
    }

    /// `(version, deployed-model id)` of every deployed version, in deployment order.
    pub fn deployed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.versions
            .iter()
            .filter_map(|v| Some((v.version.as_str(), v.deployed.as_deref()?)))
    }

    /// The endpoint is gone: nothing is deployed anywhere.
    pub fn forget_endpoint(&mut self) {
        self.endpoint = None;
        self.traffic.clear();
        for v in &mut self.versions {
            v.deployed = None;
        }
        self.prune();
    }

    /// Drops versions with nothing left in the cloud.
    pub fn prune(&mut self) {
        self.versions
            .retain(|v| v.model.is_some() || v.deployed.is_some() || !v.objects.is_empty());
    }
}

/// Where the calls are heading: the host's desired versions, or nothing left at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    Apply,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Upload the version's files to GCS, then `models:upload`.
    Upload {
        version: String,
    },
    CreateEndpoint,
    Deploy {
        version: String,
    },
    Undeploy {
        version: String,
    },
    /// Only the percents changed: `endpoints.patch` of the split.
    SetTraffic,
    DeleteEndpoint,
    DeleteModel {
        version: String,
    },
    DeleteObjects {
        version: String,
    },
}

impl Step {
    /// What the step does, for messages ("deploying v2").
    pub fn describe(&self) -> String {
        match self {
            Step::Upload { version } => format!("uploading the model of {version}"),
            Step::CreateEndpoint => "creating the endpoint".to_owned(),
            Step::Deploy { version } => format!("deploying {version}"),
            Step::Undeploy { version } => format!("undeploying {version}"),
            Step::SetTraffic => "setting the traffic split".to_owned(),
            Step::DeleteEndpoint => "deleting the endpoint".to_owned(),
            Step::DeleteModel { version } => format!("deleting the model of {version}"),
            Step::DeleteObjects { version } => format!("deleting the artifacts of {version}"),
        }
    }
}

/// The host's desired versions and percents, in its order.
pub type Desired = [(String, u8)];

/// The next step towards `goal`, or `None` when there is nothing left to do.
pub fn next(state: &State, desired: &Desired, goal: Goal) -> Option<Step> {
    match goal {
        Goal::Apply => next_to_apply(state, desired),
        Goal::Delete => next_to_delete(state),
    }
}

/// New versions are uploaded and deployed before old ones are undeployed, so the endpoint
/// never goes without a model while it moves from one version to another.
fn next_to_apply(state: &State, desired: &Desired) -> Option<Step> {
    let missing = |f: fn(&VersionState) -> bool| {
        desired
            .iter()
            .find(|(v, _)| !state.version(v).is_some_and(f))
            .map(|(v, _)| v.clone())
    };
    if let Some(version) = missing(|v| v.model.is_some()) {
        return Some(Step::Upload { version });
    }
    if state.endpoint.is_none() && !desired.is_empty() {
        return Some(Step::CreateEndpoint);
    }
    if let Some(version) = missing(|v| v.deployed.is_some()) {
        return Some(Step::Deploy { version });
    }
    if let Some((version, _)) = state
        .deployed()
        .find(|(v, _)| !desired.iter().any(|(d, _)| d == v))
    {
        return Some(Step::Undeploy {
            version: version.to_owned(),
        });
    }
    if state.deployed().next().is_some()
        && split_for(state, desired, &Step::SetTraffic) != state.traffic
    {
        return Some(Step::SetTraffic);
    }
    None
}

/// Undeploy everything, then the endpoint, then each version's model and its artifacts.
fn next_to_delete(state: &State) -> Option<Step> {
    if let Some((version, _)) = state.deployed().next() {
        return Some(Step::Undeploy {
            version: version.to_owned(),
        });
    }
    if state.endpoint.is_some() {
        return Some(Step::DeleteEndpoint);
    }
    let first = |f: fn(&VersionState) -> bool| {
        state
            .versions
            .iter()
            .find(|v| f(v))
            .map(|v| v.version.clone())
    };
    if let Some(version) = first(|v| v.model.is_some()) {
        return Some(Step::DeleteModel { version });
    }
    first(|v| !v.objects.is_empty()).map(|version| Step::DeleteObjects { version })
}

/// The split to send with `step` (deploy, undeploy or set): the models deployed once it is
/// done share the traffic by their desired percents (0 for versions no longer desired), the
/// model being deployed under the `"0"` key.
pub fn split_for(state: &State, desired: &Desired, step: &Step) -> Split {
    let percent = |version: &str| {
        desired
            .iter()
            .find(|(v, _)| v == version)
            .map_or(0, |(_, p)| *p)
    };
    let (leaving, arriving) = match step {
        Step::Deploy { version } => (None, Some(version.as_str())),
        Step::Undeploy { version } => (Some(version.as_str()), None),
        _ => (None, None),
    };
    let mut weights: Vec<(String, u8)> = state
        .deployed()
        .filter(|(v, _)| Some(*v) != leaving && Some(*v) != arriving)
        .map(|(v, id)| (id.to_owned(), percent(v)))
        .collect();
    if let Some(version) = arriving {
        weights.push((NEW_MODEL.to_owned(), percent(version)));
    }
    split::shares(&weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(pairs: &[(&str, u8)]) -> Vec<(String, u8)> {
        pairs.iter().map(|(v, p)| (v.to_string(), *p)).collect()
    }

    fn step(s: &Step) -> String {
        s.describe()
    }

    /// Plays the plan out, every step succeeding at once, with ids counting up.
    fn play(state: &mut State, want: &Desired, goal: Goal) -> Vec<String> {
        let mut steps = Vec::new();
        let mut ids = 100;
        while let Some(s) = next(state, want, goal) {
            assert!(steps.len() < 20, "no end: {steps:?}");
            let split = split_for(state, want, &s);
            steps.push(format!("{} {split:?}", step(&s)));
            ids += 1;
            match &s {
                Step::Upload { version } => {
                    let v = state.version_mut(version);
                    v.objects = vec![format!("ferry/d/{version}/manifest.json")];
                    v.model = Some(format!("models/{ids}"));
                }
                Step::CreateEndpoint => state.endpoint = Some("endpoints/1".into()),
                Step::Deploy { version } => {
                    state.version_mut(version).deployed = Some(ids.to_string());
                    state.traffic = split::with_new_id(&split, &ids.to_string());
                }
                Step::Undeploy { version } => {
                    state.version_mut(version).deployed = None;
                    state.traffic = split;
                }
                Step::SetTraffic => state.traffic = split,
                Step::DeleteEndpoint => state.forget_endpoint(),
                Step::DeleteModel { version } => {
                    state.version_mut(version).model = None;
                    state.prune();
                }
                Step::DeleteObjects { version } => {
                    state.version_mut(version).objects.clear();
                    state.prune();
                }
            }
        }
        steps
    }

    #[test]
    fn first_apply_uploads_creates_and_deploys() {
        let mut state = State::default();
        let steps = play(&mut state, &desired(&[("v1", 100)]), Goal::Apply);
        assert_eq!(
            steps,
            [
                "uploading the model of v1 {}",
                "creating the endpoint {}",
                "deploying v1 {\"0\": 100}",
            ]
        );
        assert_eq!(state.traffic, Split::from([("103".to_owned(), 100)]));
        assert!(play(&mut state, &desired(&[("v1", 100)]), Goal::Apply).is_empty());
    }

    #[test]
    fn a_new_version_serves_before_the_old_one_goes() {
        let mut state = State::default();
        play(&mut state, &desired(&[("v1", 100)]), Goal::Apply);
        let steps = play(&mut state, &desired(&[("v2", 100)]), Goal::Apply);
        assert_eq!(
            steps,
            [
                "uploading the model of v2 {}",
                "deploying v2 {\"0\": 100}",
                "undeploying v1 {\"102\": 100}",
            ]
        );
        // v1's model stays for a rollback, undeployed.
        assert!(state.version("v1").unwrap().model.is_some());
        assert_eq!(state.deployed().collect::<Vec<_>>(), [("v2", "102")]);
    }

    #[test]
    fn a_split_is_built_up_then_adjusted() {
        let mut state = State::default();
        let steps = play(&mut state, &desired(&[("v1", 30), ("v2", 70)]), Goal::Apply);
        assert_eq!(
            steps[3..],
            [
                "deploying v1 {\"0\": 100}",
                "deploying v2 {\"0\": 70, \"104\": 30}",
            ]
        );
        let steps = play(&mut state, &desired(&[("v1", 50), ("v2", 50)]), Goal::Apply);
        assert_eq!(
            steps,
            ["setting the traffic split {\"104\": 50, \"105\": 50}"]
        );
    }

    #[test]
    fn disabling_undeploys_everything_and_keeps_the_rest() {
        let mut state = State::default();
        play(&mut state, &desired(&[("v1", 50), ("v2", 50)]), Goal::Apply);
        let steps = play(&mut state, &[], Goal::Apply);
        assert_eq!(
            steps,
            [
                // Nothing desired: the endpoint takes no traffic from the first undeploy.
                "undeploying v1 {}",
                "undeploying v2 {}",
            ]
        );
        assert!(state.endpoint.is_some());
        assert_eq!(state.versions.len(), 2);
        // Re-enabling only deploys.
        let steps = play(&mut state, &desired(&[("v2", 100)]), Goal::Apply);
        assert_eq!(steps, ["deploying v2 {\"0\": 100}"]);
    }

    #[test]
    fn delete_removes_everything_in_order() {
        let mut state = State::default();
        play(&mut state, &desired(&[("v1", 100)]), Goal::Apply);
        play(&mut state, &desired(&[("v2", 100)]), Goal::Apply);
        let steps = play(&mut state, &desired(&[("v2", 100)]), Goal::Delete);
        assert_eq!(
            steps,
            [
                "undeploying v2 {}",
                "deleting the endpoint {}",
                "deleting the model of v1 {}",
                "deleting the model of v2 {}",
                "deleting the artifacts of v1 {}",
                "deleting the artifacts of v2 {}",
            ]
        );
        assert_eq!(state, State::default());
    }

    #[test]
    fn the_state_reads_back_from_older_or_sparser_json() {
        let state: State =
            serde_json::from_str(r#"{"versions":[{"version":"v1","model":"m/1"}]}"#).unwrap();
        assert_eq!(state.version("v1").unwrap().model.as_deref(), Some("m/1"));
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(
            json,
            r#"{"versions":[{"version":"v1","objects":[],"model":"m/1"}],"traffic":{}}"#
        );
    }
}
