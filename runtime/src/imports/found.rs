//! What a scan finds: each object of the export, how it stands against this home, and what
//! it needs that neither the export nor the home has. This is what `imports show` lists and
//! what a confirmation chooses from.

use serde::{Deserialize, Serialize};

use crate::exports::{Dependency, ObjectKind};

/// How an object of the export stands against this home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The home has nothing of that name: importing creates it.
    New,
    /// The home has it with the same content: importing changes nothing.
    Identical,
    /// The home has one of that name with other content: the confirmation settles it.
    Conflict,
}

impl State {
    /// The state of several parts together (a service's versions, a workflow's files).
    pub fn of_parts(parts: impl IntoIterator<Item = State>) -> State {
        let mut all_identical = true;
        let mut any = false;
        for part in parts {
            any = true;
            match part {
                State::Conflict => return State::Conflict,
                State::New => all_identical = false,
                State::Identical => {}
            }
        }
        if any && all_identical {
            State::Identical
        } else {
            State::New
        }
    }
}

/// One package version of a service in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundVersion {
    /// The version.
    pub version: String,
    /// Whether the registry has it, and with the same bytes.
    pub state: State,
}

/// One object of the export, as the scan found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    /// What it is.
    pub kind: ObjectKind,
    /// Its name (`credential.field` for a secret, the id for a deployment).
    pub name: String,
    /// How it stands against this home.
    pub state: State,
    /// A service's package versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<FoundVersion>,
    /// What it needs that neither the export nor this home has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Dependency>,
    /// A deployment whose needs are missing cannot be imported.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsatisfiable: bool,
    /// A secret's: whether the export holds its value (encrypted). One without a value and
    /// not stored here needs one at confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_included: Option<bool>,
    /// A secret's: whether a value must be given at confirmation to import it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub needs_value: bool,
}
