//! The `sql = "SELECT … FROM input …"` form of mappings, read into the same mappings Polaris'
//! list makes: each selected expression is a mapping named by its `AS` (or by the column it
//! selects), `WHERE` is a condition on the typed input rows, and `GROUP BY` says the select
//! aggregates (which a rollup does, grouped by `__time` floored and every other column).
//!
//! Parsed by DataFusion's SQL parser; anything a mapping cannot be (a join, `HAVING`, `ORDER
//! BY`, `LIMIT`, `DISTINCT`, `*`) is refused with what to write instead.

use deltalake::datafusion::sql::sqlparser::ast::{
    GroupByExpr, SelectItem, SetExpr, Statement, TableFactor,
};
use deltalake::datafusion::sql::sqlparser::dialect::GenericDialect;
use deltalake::datafusion::sql::sqlparser::parser::Parser;

use super::expression::ExpressionError;

/// The one table a mapping's `SELECT` reads: the object's rows, typed by `input_schema`.
pub const INPUT_TABLE: &str = "input";

/// A `SELECT` read as mappings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Select {
    /// `(column, expression)` per selected item, in order.
    pub items: Vec<(String, String)>,
    /// The `WHERE` condition's text.
    pub condition: Option<String>,
    /// How many `GROUP BY` items, `None` without `GROUP BY` (`GROUP BY ALL` counts as every
    /// non-aggregated item: `Some(usize::MAX)`).
    pub group_by: Option<usize>,
}

/// Reads `sql` as a mapping `SELECT`.
pub fn parse(sql: &str) -> Result<Select, ExpressionError> {
    let refuse = |message: String| ExpressionError {
        column: "sql".into(),
        expression: sql.trim().to_owned(),
        at: None,
        message,
    };
    let statements = Parser::parse_sql(&GenericDialect {}, sql).map_err(|e| {
        let text = e.to_string();
        let text = text.split(" at Line:").next().unwrap_or(&text).to_owned();
        refuse(format!("not a SQL statement: {text}"))
    })?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err(refuse(
            "`sql` is one `SELECT … FROM input` (it reads rows; it writes nothing)".into(),
        ));
    };
    if query.with.is_some() || query.order_by.is_some() || query.limit_clause.is_some() {
        return Err(refuse(
            "a mapping SELECT has no WITH, ORDER BY or LIMIT: it maps every row".into(),
        ));
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(refuse(
            "a mapping is one plain SELECT (no UNION or VALUES)".into(),
        ));
    };
    if select.distinct.is_some() || select.having.is_some() {
        return Err(refuse(
            "a mapping SELECT has no DISTINCT or HAVING; a rollup groups rows by itself".into(),
        ));
    }
    match select.from.as_slice() {
        [from]
            if from.joins.is_empty()
                && matches!(&from.relation, TableFactor::Table { name, .. }
                    if name.to_string().eq_ignore_ascii_case(INPUT_TABLE)) => {}
        _ => {
            return Err(refuse(format!(
                "a mapping SELECT reads `FROM {INPUT_TABLE}` (the object's rows, typed by \
                 input_schema), and nothing else"
            )));
        }
    }
    let mut items = Vec::new();
    for item in &select.projection {
        let (column, expression) = match item {
            SelectItem::ExprWithAlias { expr, alias } => (alias.value.clone(), expr.to_string()),
            SelectItem::UnnamedExpr(
                expr @ deltalake::datafusion::sql::sqlparser::ast::Expr::Identifier(ident),
            ) => (ident.value.clone(), expr.to_string()),
            SelectItem::UnnamedExpr(expr) => {
                return Err(refuse(format!(
                    "name the column `{expr}` makes: `{expr} AS name`"
                )));
            }
            _ => {
                return Err(refuse(
                    "`*` is not a mapping: select each column the table stores".into(),
                ));
            }
        };
        items.push((column, expression));
    }
    let group_by = match &select.group_by {
        GroupByExpr::All(_) => Some(usize::MAX),
        GroupByExpr::Expressions(e, _) if e.is_empty() => None,
        GroupByExpr::Expressions(e, _) => Some(e.len()),
    };
    Ok(Select {
        items,
        condition: select.selection.as_ref().map(|e| e.to_string()),
        group_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_select_is_read_as_mappings() {
        let s = parse(
            r#"SELECT TIME_PARSE("timestamp") AS __time, "geo.city" AS city, "n",
                      MAX("session_length") AS longest, COUNT(*) AS __count
               FROM input WHERE "agent" <> 'robot' GROUP BY 1, 2, 3"#,
        )
        .unwrap();
        let columns: Vec<&str> = s.items.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(columns, ["__time", "city", "n", "longest", "__count"]);
        assert_eq!(s.items[0].1, r#"TIME_PARSE("timestamp")"#);
        assert_eq!(s.condition.as_deref(), Some(r#""agent" <> 'robot'"#));
        assert_eq!(s.group_by, Some(3));
    }

    #[test]
    fn what_a_mapping_cannot_be_is_refused_with_what_to_write() {
        for (sql, says) in [
            ("DELETE FROM input", "it writes nothing"),
            (
                "SELECT a FROM input ORDER BY a",
                "no WITH, ORDER BY or LIMIT",
            ),
            ("SELECT * FROM input", "`*` is not a mapping"),
            ("SELECT a + 1 FROM input", "name the column `a + 1` makes"),
            ("SELECT a FROM other", "reads `FROM input`"),
            ("SELECT a FROM input JOIN b ON true", "reads `FROM input`"),
            ("SELECT DISTINCT a FROM input", "no DISTINCT or HAVING"),
            ("SELEC a", "not a SQL statement"),
        ] {
            let e = parse(sql).unwrap_err().to_string();
            assert!(e.contains(says), "{sql}: {e}");
        }
    }
}
