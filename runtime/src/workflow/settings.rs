//! Step settings handed to plugins. Plugins receive strings only (`host.setting`): strings pass
//! as they are, numbers and booleans as their TOML text, tables and arrays as JSON.

use std::collections::BTreeMap;

/// Flattens a step's settings table into the name → text map plugins read.
pub fn plugin_settings(table: &toml::Table) -> Result<BTreeMap<String, String>, String> {
    table
        .iter()
        .map(|(k, v)| {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Datetime(d) => d.to_string(),
                toml::Value::Array(_) | toml::Value::Table(_) => serde_json::to_string(v)
                    .map_err(|e| format!("setting `{k}` cannot be passed to a plugin: {e}"))?,
            };
            Ok((k.clone(), text))
        })
        .collect()
}
