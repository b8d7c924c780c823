//! Declared credentials that nothing grants. A declaration on its own does nothing — no
//! request is ever signed with it — so one left over is most likely a grant that names it
//! wrong, or a grant that was forgotten; either way the user should hear of it before a run
//! fails at a refused or unsigned request.

use std::ops::Range;

use super::{Checker, DecodedStep, did_you_mean};

/// The credential names an infra's raw table grants (`credentials = [{ name = … }]`).
pub fn infra_grant_names(table: &toml::Table) -> Vec<String> {
    table
        .get("credentials")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .filter_map(|g| g.get("name").and_then(|n| n.as_str()).map(str::to_owned))
        .collect()
}

/// `(name, message)` for each declared credential that no grant in `granted` names, with a
/// "did you mean" when a grant names something close (a typo on one side or the other).
pub fn ungranted_credentials<'a>(
    declared: impl IntoIterator<Item = &'a str>,
    granted: &[String],
) -> Vec<(String, String)> {
    let declared: Vec<&str> = declared.into_iter().collect();
    let strays: Vec<&str> = granted
        .iter()
        .map(String::as_str)
        .filter(|g| !declared.contains(g))
        .collect();
    declared
        .iter()
        .filter(|d| !granted.iter().any(|g| g == *d))
        .map(|name| {
            let mut message =
                format!("credential `{name}` is declared but no step or infra grants it");
            match did_you_mean(name, strays.iter().copied()) {
                Some(close) => message.push_str(&format!(
                    " (a grant names `{close}`: did you mean `{name}`?)"
                )),
                None => message.push_str(
                    ": grant it (`grants.credentials` of the import step, `credentials` of an infra) or remove it",
                ),
            }
            (name.to_string(), message)
        })
        .collect()
}

impl Checker<'_> {
    /// Every `[credentials.NAME]` must be granted by the import step or an infra of the file.
    pub(super) fn check_credentials_granted(&mut self, steps: &[(DecodedStep, Range<usize>)]) {
        let mut granted: Vec<String> = steps
            .iter()
            .filter_map(|(s, _)| match s {
                DecodedStep::Import(i) => Some(i.grants.credentials.iter().map(|g| g.name.clone())),
                _ => None,
            })
            .flatten()
            .collect();
        granted.extend(self.raw.infras.values().flat_map(infra_grant_names));
        let declared: Vec<String> = self.raw.credentials.keys().cloned().collect();
        for (name, message) in ungranted_credentials(declared.iter().map(String::as_str), &granted)
        {
            let at = [
                format!("[credentials.{name}]"),
                format!("[credentials.\"{name}\"]"),
            ]
            .iter()
            .find_map(|header| self.src.text.find(header.as_str()))
            .map_or(0..0, |i| i..i);
            self.problem(at, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declaration_nothing_grants_is_named_with_the_grant_it_likely_meant() {
        let granted = ["aws_s3".to_owned(), "nodes".to_owned()];
        let found = ungranted_credentials(["aws-s3", "nodes", "spare"], &granted);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "aws-s3");
        assert!(
            found[0]
                .1
                .contains("a grant names `aws_s3`: did you mean `aws-s3`?"),
            "{}",
            found[0].1
        );
        assert_eq!(found[1].0, "spare");
        assert!(found[1].1.contains("grant it"), "{}", found[1].1);
    }
}
