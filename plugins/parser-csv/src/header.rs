//! Column names from a header as written, made usable the way pandas, DuckDB and Polars make
//! them: R's `write.csv` writes `""` for its row-name column, spreadsheets export blank and
//! repeated titles, and failing such a file would lose every row for a name.
//!
//! - An empty (or all-whitespace) name becomes `column_<N>`, N its 1-based position.
//! - A repeated name keeps its first column; later ones become `x_2`, `x_3`, ….
//! - A generated name never takes a name written elsewhere in the header (which keeps its
//!   column) nor an earlier generated one: it moves on to the next suffix (`x_3` when `x_2` is
//!   written, `column_1_2` when `column_1` is).
//!
//! Each name is looked up once in a hash set and each base name resumes its suffixes where it
//! stopped, so a header of 40 000 repeats of one name costs linear time, not quadratic.

use std::collections::{HashMap, HashSet};

/// A header name that was replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    /// 1-based position of the column.
    pub position: usize,
    /// The name as written (possibly empty).
    pub written: String,
    /// The name the column has from now on.
    pub name: String,
}

impl Renamed {
    /// Why the column got its name, for the `renamed_column` diagnostic.
    pub fn message(&self) -> String {
        let Renamed { position, name, .. } = self;
        if is_blank(&self.written) {
            format!("header name {position} is empty; the column is named `{name}`")
        } else {
            let written = &self.written;
            format!("header name {position} repeats `{written}`; the column is named `{name}`")
        }
    }
}

/// Distinct, non-empty names for `written`, in the same order, and the renamings made.
pub fn unique_names(written: Vec<String>) -> (Vec<String>, Vec<Renamed>) {
    // Every name written keeps its first column, so no generated name may take any of them.
    let mut taken: HashSet<String> = written
        .iter()
        .filter(|name| !is_blank(name))
        .cloned()
        .collect();
    let mut kept: HashSet<&str> = HashSet::with_capacity(taken.len());
    // The next suffix to try for each base name.
    let mut next: HashMap<String, usize> = HashMap::new();
    let mut names = Vec::with_capacity(written.len());
    let mut renamed = Vec::new();
    for (i, name) in written.iter().enumerate() {
        let position = i + 1;
        let generated = if is_blank(name) {
            let base = format!("column_{position}");
            if taken.insert(base.clone()) {
                base
            } else {
                suffixed(base, &mut taken, &mut next)
            }
        } else if kept.insert(name) {
            names.push(name.clone());
            continue;
        } else {
            suffixed(name.clone(), &mut taken, &mut next)
        };
        renamed.push(Renamed {
            position,
            written: name.clone(),
            name: generated.clone(),
        });
        names.push(generated);
    }
    (names, renamed)
}

/// `base_<k>` for the first k ≥ 2 not taken yet, which it then takes.
fn suffixed(
    base: String,
    taken: &mut HashSet<String>,
    next: &mut HashMap<String, usize>,
) -> String {
    let k = next.entry(base.clone()).or_insert(2);
    loop {
        let name = format!("{base}_{k}");
        *k += 1;
        if taken.insert(name.clone()) {
            return name;
        }
    }
}

fn is_blank(name: &str) -> bool {
    name.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(written: &[&str]) -> Vec<String> {
        unique_names(written.iter().map(|s| s.to_string()).collect()).0
    }

    #[test]
    fn distinct_names_are_kept_as_written() {
        let (names, renamed) = unique_names(vec!["id".into(), " x ".into(), "X".into()]);
        assert_eq!(names, ["id", " x ", "X"]);
        assert!(renamed.is_empty());
    }

    #[test]
    fn an_empty_name_is_numbered_by_its_position() {
        assert_eq!(
            names(&["", "x", " ", "y"]),
            ["column_1", "x", "column_3", "y"]
        );
    }

    #[test]
    fn repeats_get_the_next_free_suffix() {
        assert_eq!(names(&["x", "x", "x"]), ["x", "x_2", "x_3"]);
        assert_eq!(
            names(&["a", "b", "a", "b", "a"]),
            ["a", "b", "a_2", "b_2", "a_3"]
        );
    }

    #[test]
    fn a_name_written_later_is_never_taken() {
        // `x_2` is written: the repeat of `x` skips it, and the written `x_2` keeps its name.
        assert_eq!(names(&["x", "x", "x_2"]), ["x", "x_3", "x_2"]);
        assert_eq!(names(&["x_2", "x", "x"]), ["x_2", "x", "x_3"]);
        // A repeat of a written `x_2` is suffixed in turn.
        assert_eq!(
            names(&["x", "x_2", "x", "x_2"]),
            ["x", "x_2", "x_3", "x_2_2"]
        );
    }

    #[test]
    fn a_generated_name_that_is_written_elsewhere_moves_on() {
        assert_eq!(names(&["", "column_1"]), ["column_1_2", "column_1"]);
        assert_eq!(
            names(&["", "column_1_2", "column_1"]),
            ["column_1_3", "column_1_2", "column_1"]
        );
        // An empty name and a repeat both aiming at the same name get different ones.
        assert_eq!(
            names(&["column_2", "", "column_2"]),
            ["column_2", "column_2_2", "column_2_3"]
        );
    }

    #[test]
    fn every_renaming_is_reported_with_its_position() {
        let (names, renamed) = unique_names(vec!["".into(), "x".into(), "x".into()]);
        assert_eq!(names, ["column_1", "x", "x_2"]);
        assert_eq!(
            renamed,
            [
                Renamed {
                    position: 1,
                    written: "".into(),
                    name: "column_1".into()
                },
                Renamed {
                    position: 3,
                    written: "x".into(),
                    name: "x_2".into()
                },
            ]
        );
        assert_eq!(
            renamed[0].message(),
            "header name 1 is empty; the column is named `column_1`"
        );
        assert_eq!(
            renamed[1].message(),
            "header name 3 repeats `x`; the column is named `x_2`"
        );
    }

    #[test]
    fn many_repeats_stay_distinct() {
        let written: Vec<String> = std::iter::repeat_n("x".to_owned(), 40_000)
            .chain((2..=10).map(|k| format!("x_{k}")))
            .collect();
        let (names, renamed) = unique_names(written);
        let distinct: HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert_eq!(renamed.len(), 39_999);
        assert_eq!(names[1], "x_11", "x_2 … x_10 are written later");
        assert_eq!(names[39_999], "x_40009");
    }
}
