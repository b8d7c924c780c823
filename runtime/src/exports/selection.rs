//! What an export takes, as UbiOps' exports API asks for it: objects of each kind by name,
//! each with its options. A selection naming no kind at all takes everything (secret names
//! only, never values); one that names some kinds takes only those. `"*"` stands for every
//! object of a kind.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ExportError;

/// Options of an object that has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plain {}

/// Which package versions of a service (all when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePick {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Those versions only.
    pub versions: Option<Vec<String>>,
}

/// Whether a secret's value goes into the export (encrypted to the export's passphrase).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretPick {
    #[serde(default)]
    /// Put the value in, encrypted to the passphrase.
    pub include_value: bool,
}

/// Objects to export, by kind then name (`credential.field` for secrets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Workflows of the workflows directory, by name.
    pub workflows: Option<BTreeMap<String, Plain>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Services whose package versions go in.
    pub services: Option<BTreeMap<String, ServicePick>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Stored infras.
    pub infras: Option<BTreeMap<String, Plain>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Deployments, by id.
    pub deployments: Option<BTreeMap<String, Plain>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Custom plugins the workflows name.
    pub plugins: Option<BTreeMap<String, Plain>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Project variables.
    pub variables: Option<BTreeMap<String, Plain>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Stored secrets, as `credential.field`.
    pub secrets: Option<BTreeMap<String, SecretPick>>,
}

/// Every name of one kind.
pub const ALL: &str = "*";

impl Selection {
    /// Whether the selection names no kind (and so takes everything).
    pub fn is_everything(&self) -> bool {
        *self == Selection::default()
    }

    /// Whether any secret is asked for with its value (the export then needs a passphrase).
    pub fn wants_values(&self) -> bool {
        self.secrets
            .iter()
            .flat_map(|s| s.values())
            .any(|p| p.include_value)
    }

    /// Adds the objects of one `--workflows a,b`-style command-line value of `kind`.
    ///
    /// Services take `name=v1,v2` (those versions only); secrets `credential.field` or
    /// `credential.field=include_value`.
    pub fn add_arg(&mut self, kind: Kind, arg: &str) -> Result<(), ExportError> {
        let bad = |why: &str| ExportError::Selection(format!("`{arg}`: {why}"));
        match kind {
            Kind::Services => {
                let (name, versions) = match arg.split_once('=') {
                    Some((name, versions)) => (
                        name,
                        Some(
                            versions
                                .split(',')
                                .filter(|v| !v.is_empty())
                                .map(str::to_owned)
                                .collect::<Vec<_>>(),
                        ),
                    ),
                    None => (arg, None),
                };
                if versions.as_ref().is_some_and(Vec::is_empty) {
                    return Err(bad("name versions after `=`, e.g. churn=v1,v2"));
                }
                self.services
                    .get_or_insert_default()
                    .insert(name.to_owned(), ServicePick { versions });
            }
            Kind::Secrets => {
                for item in arg.split(',').filter(|s| !s.is_empty()) {
                    let (name, include_value) = match item.split_once('=') {
                        Some((name, "include_value")) => (name, true),
                        Some(_) => {
                            return Err(bad("the only option of a secret is `=include_value`"));
                        }
                        None => (item, false),
                    };
                    if name != ALL && !name.contains('.') {
                        return Err(bad("name a secret as credential.field"));
                    }
                    self.secrets
                        .get_or_insert_default()
                        .insert(name.to_owned(), SecretPick { include_value });
                }
            }
            plain => {
                let map = match plain {
                    Kind::Workflows => &mut self.workflows,
                    Kind::Infras => &mut self.infras,
                    Kind::Deployments => &mut self.deployments,
                    Kind::Plugins => &mut self.plugins,
                    Kind::Variables => &mut self.variables,
                    Kind::Services | Kind::Secrets => unreachable!("handled above"),
                };
                let map = map.get_or_insert_default();
                for name in arg.split(',').filter(|s| !s.is_empty()) {
                    map.insert(name.to_owned(), Plain {});
                }
            }
        }
        Ok(())
    }
}

/// The kinds a selection names, as the command line spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--workflows`
    Workflows,
    /// `--services`
    Services,
    /// `--infras`
    Infras,
    /// `--deployments`
    Deployments,
    /// `--plugins`
    Plugins,
    /// `--variables`
    Variables,
    /// `--secrets`
    Secrets,
}

/// Which names of one kind a selection takes, of those `available`: every one when it names
/// no kind or names `*`; the ones it names otherwise — a name not available is an error.
pub(super) fn pick<'a, T>(
    everything: bool,
    chosen: Option<&'a BTreeMap<String, T>>,
    available: &[String],
    noun: &str,
) -> Result<Vec<(String, Option<&'a T>)>, ExportError> {
    let Some(chosen) = chosen else {
        return Ok(if everything {
            available.iter().map(|n| (n.clone(), None)).collect()
        } else {
            Vec::new()
        });
    };
    if let Some(all) = chosen.get(ALL) {
        return Ok(available.iter().map(|n| (n.clone(), Some(all))).collect());
    }
    chosen
        .iter()
        .map(|(name, options)| {
            if available.contains(name) {
                Ok((name.clone(), Some(options)))
            } else {
                Err(ExportError::Unknown {
                    kind: noun.to_owned(),
                    name: name.clone(),
                    available: if available.is_empty() {
                        match noun {
                            "workflow" => {
                                "none in the workflows directory; --workflows-dir names another"
                                    .to_owned()
                            }
                            _ => "none".to_owned(),
                        }
                    } else {
                        available.join(", ")
                    },
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_values_build_the_same_selection_as_json() {
        let mut s = Selection::default();
        assert!(s.is_everything());
        s.add_arg(Kind::Workflows, "a,b").unwrap();
        s.add_arg(Kind::Services, "churn=v1,v2").unwrap();
        s.add_arg(Kind::Services, "other").unwrap();
        s.add_arg(
            Kind::Secrets,
            "s3.secret_access_key=include_value,s3.access_key_id",
        )
        .unwrap();
        let json: Selection = serde_json::from_value(serde_json::json!({
            "workflows": { "a": {}, "b": {} },
            "services": { "churn": { "versions": ["v1", "v2"] }, "other": {} },
            "secrets": {
                "s3.secret_access_key": { "includeValue": true },
                "s3.access_key_id": {}
            }
        }))
        .unwrap();
        assert_eq!(s, json);
        assert!(s.wants_values());
        assert!(s.add_arg(Kind::Secrets, "s3").is_err());
        assert!(s.add_arg(Kind::Secrets, "s3.x=yes").is_err());
        assert!(s.add_arg(Kind::Services, "churn=").is_err());
        let unknown = serde_json::from_value::<Selection>(serde_json::json!({ "tables": {} }));
        assert!(unknown.is_err());
    }

    #[test]
    fn a_kind_not_named_is_empty_unless_nothing_is_named() {
        let available = vec!["a".to_owned(), "b".to_owned()];
        let none: Option<&BTreeMap<String, Plain>> = None;
        assert_eq!(pick(true, none, &available, "workflow").unwrap().len(), 2);
        assert!(
            pick(false, none, &available, "workflow")
                .unwrap()
                .is_empty()
        );
        let all = BTreeMap::from([(ALL.to_owned(), Plain {})]);
        assert_eq!(
            pick(false, Some(&all), &available, "workflow")
                .unwrap()
                .len(),
            2
        );
        let c = BTreeMap::from([("c".to_owned(), Plain {})]);
        let e = pick(false, Some(&c), &available, "workflow").unwrap_err();
        assert!(e.to_string().contains("no workflow `c`"), "{e}");
    }
}
