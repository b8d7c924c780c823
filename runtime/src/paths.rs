//! Paths that come from outside (an upload's name, an entry of a package zip) and must name a
//! file inside a directory ferry controls.

use std::path::{Component, Path};

/// A non-empty relative path of plain names, `/`-separated: no root, no `.` or `..`, no `\`.
/// Joined to a directory, it stays inside it (no zip slip).
pub fn is_plain_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_pass() {
        for ok in ["a.csv", "in/b c.csv", "endpoints/e/model/model.json"] {
            assert!(is_plain_relative(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "./a",
            "a\\b",
            "C:\\x",
        ] {
            assert!(!is_plain_relative(bad), "{bad}");
        }
    }
}
