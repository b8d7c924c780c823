//! Tables in the home: what each one is, from its Delta log.

use super::App;
use crate::engine::EngineError;
use crate::paths::{self, NameKind};
use crate::table::{TableInfo, describe};

impl App {
    /// Every table under the home's `tables/`, by name.
    pub async fn tables(&self) -> Result<Vec<TableInfo>, EngineError> {
        let dir = self.home().join("tables");
        let mut names: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| paths::check(NameKind::Table, n).is_ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        names.sort();
        let mut tables = Vec::new();
        for name in names {
            if let Some(info) = describe(&name, &self.table_path(&name)?).await? {
                tables.push(info);
            }
        }
        Ok(tables)
    }

    /// Table `name`, or [`EngineError::NoSuchObject`] when it has no commit yet.
    pub async fn table(&self, name: &str) -> Result<TableInfo, EngineError> {
        describe(name, &self.table_path(name)?)
            .await?
            .ok_or_else(|| EngineError::NoSuchObject(format!("no table `{name}`")))
    }
}
