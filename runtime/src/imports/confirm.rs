//! A confirmation: which objects of the scanned export to import, what to do where one
//! conflicts with this home, whether imported deployments start enabled — and, kept apart
//! because they are never recorded, the passphrase and the secret values given with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::credentials::Secret;
use crate::exports::ObjectKind;

/// What to do with an object that exists here with other content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Keep what the home has; import nothing of this object.
    Skip,
    /// Put the export's in its place (package versions are immutable and never replaced).
    Replace,
    /// Import it under a free name (`<name>-imported`, `-imported-2`, …): workflows and
    /// deployments, which nothing else names.
    Rename,
}

impl std::str::FromStr for OnConflict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "skip" => Ok(OnConflict::Skip),
            "replace" => Ok(OnConflict::Replace),
            "rename" => Ok(OnConflict::Rename),
            _ => Err(format!(
                "`{s}` is not a conflict mode: use skip, replace or rename"
            )),
        }
    }
}

/// One object chosen, with its own conflict mode or enabled state when it needs one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pick {
    /// Its kind.
    pub kind: ObjectKind,
    /// Its name, as the scan lists it.
    pub name: String,
    /// What to do if it conflicts (else the confirmation's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<OnConflict>,
    /// A deployment's: whether it starts enabled (else the confirmation's
    /// `enableDeployments`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// The choices of a confirmation, as recorded with the import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Confirmation {
    /// The objects to import; none given: every object of the export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<Pick>>,
    /// Conflict modes or enabled states for single objects, without narrowing what is
    /// chosen (for when `objects` is not given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Pick>,
    /// What to do with conflicting objects that do not say; none: a conflict is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_conflict: Option<OnConflict>,
    /// Whether imported deployments start enabled (they start disabled unless told).
    #[serde(default)]
    pub enable_deployments: bool,
}

impl Confirmation {
    /// The pick for `kind` `name`, if the confirmation lists objects and this is one.
    fn pick(&self, kind: ObjectKind, name: &str) -> Option<&Pick> {
        self.objects
            .iter()
            .flatten()
            .chain(&self.overrides)
            .find(|p| p.kind == kind && p.name == name)
    }

    /// Every object the confirmation names, chosen or given its own settings.
    pub fn named(&self) -> impl Iterator<Item = &Pick> {
        self.objects.iter().flatten().chain(&self.overrides)
    }

    /// Whether `kind` `name` is to be imported.
    pub fn chooses(&self, kind: ObjectKind, name: &str) -> bool {
        self.objects
            .as_ref()
            .is_none_or(|o| o.iter().any(|p| p.kind == kind && p.name == name))
    }

    /// The conflict mode for `kind` `name`.
    pub fn mode(&self, kind: ObjectKind, name: &str) -> Option<OnConflict> {
        self.pick(kind, name)
            .and_then(|p| p.on_conflict)
            .or(self.on_conflict)
    }

    /// Whether imported deployment `id` starts enabled.
    pub fn enabled(&self, id: &str) -> bool {
        self.pick(ObjectKind::Deployment, id)
            .and_then(|p| p.enabled)
            .unwrap_or(self.enable_deployments)
    }
}

/// What a confirmation brings that is never recorded: the passphrase of the export's secret
/// values and secret values by `credential.field`.
#[derive(Default)]
pub struct Given {
    /// Opens the export's `secrets.age`.
    pub passphrase: Option<Secret>,
    /// Values for secrets, over those the export holds.
    pub secrets: BTreeMap<String, Secret>,
}
