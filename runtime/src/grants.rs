//! What a step or an infra is granted, as the workflow model writes it (host patterns,
//! credentials for hosts, the credentials' declarations), turned into what the plugin host
//! enforces (an [`OutboundPolicy`], [`HostGrants`] to judge endpoint settings by). Both the
//! engine (import steps) and deployments (infras) build their sandboxes through here, so the
//! host knows nothing of workflows and the workflow model nothing of the host.

use std::collections::BTreeMap;

use crate::credentials::{Declaration, SecretSource};
use crate::host::{GrantProblem, HostGrants, OutboundPolicy};
use crate::workflow::{CredentialGrant, CredentialSpec};

/// A credential's declaration as the host's credentials take it.
pub fn declaration(spec: &CredentialSpec) -> Declaration {
    match spec {
        CredentialSpec::Aws {
            region,
            service,
            services,
        } => Declaration::Aws {
            region: region.clone(),
            service: service.clone(),
            services: services.clone(),
        },
        CredentialSpec::Gcp { scopes, token_uri } => Declaration::Gcp {
            scopes: scopes.clone(),
            token_uri: token_uri.clone(),
        },
        CredentialSpec::Bearer {} => Declaration::Bearer,
    }
}

fn pairs(grants: &[CredentialGrant]) -> Vec<(&str, &[String])> {
    grants
        .iter()
        .map(|g| (g.name.as_str(), g.hosts.as_slice()))
        .collect()
}

/// The grants as written, parsed and judged before any secret is looked up.
pub fn parse(hosts: &[String], grants: &[CredentialGrant]) -> (HostGrants, Vec<GrantProblem>) {
    HostGrants::parse(hosts, &pairs(grants))
}

/// The outbound policy: hosts allowed, each granted credential resolved from its declaration
/// (in `declared`) and its secrets. Every problem is returned, with the policy built from what
/// was fine.
pub fn policy(
    hosts: &[String],
    grants: &[CredentialGrant],
    declared: &BTreeMap<String, CredentialSpec>,
    secrets: &SecretSource,
) -> (OutboundPolicy, Vec<GrantProblem>) {
    let declared: BTreeMap<String, Declaration> = declared
        .iter()
        .map(|(name, spec)| (name.clone(), declaration(spec)))
        .collect();
    OutboundPolicy::from_grants(hosts, &pairs(grants), &declared, secrets)
}
