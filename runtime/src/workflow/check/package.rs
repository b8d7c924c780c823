//! The package step and the `[service]` it packages: ids, versions, endpoints, artifacts, auth.

use std::ops::Range;
use std::path::Path;

use super::{Checker, is_identifier};
use crate::paths::{self, NameKind};
use crate::workflow::*;

impl Checker<'_> {
    pub(super) fn check_package(&mut self, step: &PackageStep, span: &Range<usize>) {
        let Some(service) = self.raw.service.clone() else {
            self.step_problem(
                span,
                "kind",
                "a package step needs a [service] with its endpoints",
            );
            return;
        };
        if let Err(e) = paths::check(NameKind::Service, &service.id) {
            self.problem(0..0, e.to_string());
        }
        if let Some(v) = &step.version
            && let Err(e) = paths::check(NameKind::Version, v)
        {
            self.step_problem(span, "version", e.to_string());
        }
        if service.endpoints.is_empty() {
            self.problem(0..0, "the [service] has no endpoints");
        }
        if let Err(message) = service.auth.check(service.oauth2.as_ref()) {
            let at = self.src.text.find("auth").map(|i| i..i).unwrap_or(0..0);
            self.problem(at, format!("service `{}`: {message}", service.id));
        }
        let mut names = Vec::new();
        for e in &service.endpoints {
            if !is_identifier(e.name()) || names.contains(&e.name()) {
                self.problem(
                    0..0,
                    format!(
                        "endpoint name `{}` must be unique and use only letters, digits, `-` and `_`",
                        e.name()
                    ),
                );
            }
            names.push(e.name());
            if let EndpointSpec::Sql {
                name,
                tables,
                query,
                parameters,
                max_rows,
            } = e
            {
                for message in sql_endpoint_problems(tables, query, parameters, *max_rows) {
                    self.problem(0..0, format!("endpoint `{name}`: {message}"));
                }
            }
            if let EndpointSpec::Prediction { artifacts, .. } = e {
                let dir = self.src.path.parent().unwrap_or(Path::new(".")).to_owned();
                for a in artifacts {
                    if !dir.join(a).exists() {
                        self.problem(
                            0..0,
                            format!(
                                "endpoint `{}`: artifact `{}` does not exist (resolved to {})",
                                e.name(),
                                a.display(),
                                dir.join(a).display()
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// What is wrong with a SQL endpoint that the file alone shows: its tables, parameters and
/// limit, and a statement that is not one query. Names and types are checked against the
/// tables when the package is built.
fn sql_endpoint_problems(
    tables: &[String],
    query: &str,
    parameters: &std::collections::BTreeMap<String, ColumnType>,
    max_rows: Option<usize>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if tables.is_empty() {
        problems.push("`tables` lists no table for the query to read".to_owned());
    }
    for (i, table) in tables.iter().enumerate() {
        if let Err(e) = paths::check(NameKind::Table, table) {
            problems.push(e.to_string());
        } else if tables[..i].contains(table) {
            problems.push(format!("table `{table}` is listed twice"));
        }
    }
    for (name, ty) in parameters {
        if !is_placeholder_name(name) {
            problems.push(format!(
                "parameter `{name}` must be letters, digits and `_`, not starting with a digit (it is `${name}` in the query)"
            ));
        }
        if !PARAMETER_TYPES.contains(ty) {
            problems.push(format!(
                "parameter `{name}` is a {ty}; parameters are int64, float64, boolean, utf8 or timestamp"
            ));
        }
    }
    if let Some(n) = max_rows
        && !(1..=MAX_SQL_ROWS).contains(&n)
    {
        problems.push(format!("max_rows = {n}: it must be 1 to {MAX_SQL_ROWS}"));
    }
    use deltalake::datafusion::sql::parser::{DFParser, Statement};
    use deltalake::datafusion::sql::sqlparser::ast;
    match DFParser::parse_sql(query) {
        Err(e) => problems.push(format!("query: {e}")),
        Ok(statements) if statements.len() != 1 => problems.push(format!(
            "query: give one statement, not {}",
            statements.len()
        )),
        Ok(statements) => {
            if !matches!(&statements[0], Statement::Statement(s) if matches!(**s, ast::Statement::Query(_)))
            {
                problems.push(
                    "query: only a query (SELECT or WITH) can be an endpoint; nothing that writes, defines or sets"
                        .to_owned(),
                );
            }
        }
    }
    problems
}

/// A name DataFusion reads whole after `$`: letters, digits and `_`, not starting with a digit
/// (`$1` is positional, and a `-` would end the placeholder).
fn is_placeholder_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::is_placeholder_name;

    #[test]
    fn placeholder_names_are_what_datafusion_reads_after_a_dollar() {
        for ok in ["since", "top_n", "_x", "a1"] {
            assert!(is_placeholder_name(ok), "{ok}");
        }
        for bad in ["", "1st", "top-n", "a b", "é", "$x"] {
            assert!(!is_placeholder_name(bad), "{bad}");
        }
    }
}
