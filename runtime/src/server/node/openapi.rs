//! A served service's own OpenAPI document, built from its endpoints' schemas, declaring its
//! security scheme.

use serde_json::{Map, Value, json};

use super::Node;
use crate::package::Endpoint;
use crate::server::http::ApiError;

impl Node {
    /// The deployment's own OpenAPI document, built from its endpoints' schemas.
    pub fn openapi(&self, service: &str) -> Result<Value, ApiError> {
        let active = self.active(service)?;
        let m = &active.manifest;
        let schema_of = |columns: &std::collections::BTreeMap<String, String>| {
            let props: Map<String, Value> = columns
                .iter()
                .map(|(c, t)| {
                    let mut s = value_schema(t);
                    s["type"] = json!([s["type"].take(), "null"]);
                    (c.clone(), s)
                })
                .collect();
            json!({ "type": "object", "properties": props })
        };
        let mut paths = Map::new();
        for e in &m.endpoints {
            match e {
                Endpoint::Prediction {
                    name,
                    input,
                    output,
                    ..
                } => {
                    paths.insert(format!("/public/api/v1/{}/{name}/predict", m.service), json!({
                        "post": {
                            "summary": format!("Predict with endpoint `{name}`"),
                            "requestBody": { "required": true, "content": { "application/json": { "schema": {
                                "type": "object", "required": ["rows"],
                                "properties": { "rows": { "type": "array", "items": schema_of(input) } } } } } },
                            "responses": { "200": { "description": "One result per row", "content": { "application/json": { "schema": {
                                "type": "object", "properties": { "results": { "type": "array", "items": schema_of(output) } } } } } } }
                        }
                    }));
                }
                Endpoint::Lookup {
                    name, key, columns, ..
                } => {
                    paths.insert(format!("/public/api/v1/{}/{name}/lookup", m.service), json!({
                        "post": {
                            "summary": format!("Rows of `{name}` by {key}"),
                            "requestBody": { "required": true, "content": { "application/json": { "schema": {
                                "type": "object", "required": ["keys"], "properties": { "keys": { "type": "array", "items": {} } } } } } },
                            "responses": { "200": { "description": "One row (or null) per key", "content": { "application/json": { "schema": {
                                "type": "object", "properties": { "results": { "type": "array", "items": { "anyOf": [
                                    { "type": "object", "properties": columns.keys().map(|c| (c.clone(), json!({}))).collect::<Map<_, _>>() },
                                    { "type": "null" } ] } } } } } } } }
                        }
                    }));
                }
                Endpoint::Sql {
                    name,
                    parameters,
                    columns,
                    max_rows,
                    ..
                } => {
                    let answer: Map<String, Value> = columns
                        .iter()
                        .map(|c| (c.name.clone(), answer_schema(&c.data_type)))
                        .collect();
                    let parameters: Map<String, Value> = parameters
                        .iter()
                        .map(|(p, t)| (p.clone(), value_schema(t)))
                        .collect();
                    let required: Vec<&String> = parameters.keys().collect();
                    paths.insert(format!("/public/api/v1/{}/{name}/query", m.service), json!({
                        "post": {
                            "summary": format!("Run the query of endpoint `{name}`"),
                            "requestBody": { "required": !required.is_empty(), "content": { "application/json": { "schema": {
                                "type": "object", "required": if required.is_empty() { json!([]) } else { json!(["parameters"]) },
                                "properties": { "parameters": {
                                    "type": "object", "required": required, "properties": parameters,
                                    "additionalProperties": false } } } } } },
                            "responses": {
                                "200": { "description": format!("The answer: at most {max_rows} rows"), "content": { "application/json": { "schema": {
                                    "type": "object", "properties": {
                                        "columns": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "type": { "type": "string" } } } },
                                        "rows": { "type": "array", "items": { "type": "object", "properties": answer } },
                                        "rowCount": { "type": "integer" } } } } } },
                                "400": { "description": "A parameter missing, unknown or of another type (invalid_input), or the query over its limits (query_limit)" } }
                        }
                    }));
                }
            }
        }
        let mut doc = json!({
            "openapi": "3.1.0",
            "info": { "title": format!("{} (ferry service)", m.service), "version": m.version },
            "paths": paths,
        });
        let scheme = match (&m.auth, &m.oauth2) {
            (crate::workflow::ServiceAuth::ApiKeys, _) => Some(json!({
                "type": "http", "scheme": "bearer",
                "description": "A key of the API node with the UseServices permission (`ferry keys create NAME --permission UseServices --service ID`)",
            })),
            (crate::workflow::ServiceAuth::Oauth2, Some(o)) => Some(json!({
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": format!("A JWT from {} for audience {}{}", o.issuer, o.audience,
                    if o.scopes.is_empty() { String::new() } else { format!(" with scopes {}", o.scopes.join(" ")) }),
            })),
            _ => None,
        };
        if let Some(scheme) = scheme {
            doc["components"] = json!({ "securitySchemes": { "serviceAuth": scheme } });
            doc["security"] = json!([{ "serviceAuth": [] }]);
        }
        Ok(doc)
    }
}

/// The JSON schema of an answer column, from its Arrow type's name (as Arrow's JSON writer
/// gives the value; a null is left out of the row).
fn answer_schema(data_type: &str) -> Value {
    use arrow::datatypes::DataType;
    match data_type.parse::<DataType>() {
        Ok(t) if t.is_integer() => json!({ "type": "integer" }),
        Ok(t) if t.is_floating() => json!({ "type": "number" }),
        Ok(DataType::Boolean) => json!({ "type": "boolean" }),
        Ok(DataType::Timestamp(..)) => json!({ "type": "string", "format": "date-time" }),
        Ok(DataType::Date32 | DataType::Date64) => json!({ "type": "string", "format": "date" }),
        Ok(DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)) => {
            json!({ "type": "array" })
        }
        Ok(DataType::Struct(_)) => json!({ "type": "object" }),
        Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
            json!({ "type": "string" })
        }
        _ => json!({}),
    }
}

/// The JSON schema of a value of one of ferry's column types (`int64`, `timestamp`, …).
fn value_schema(column_type: &str) -> Value {
    match column_type {
        "int64" => json!({ "type": "integer" }),
        "float64" => json!({ "type": "number" }),
        "boolean" => json!({ "type": "boolean" }),
        "timestamp" => json!({ "type": "string", "format": "date-time" }),
        _ => json!({ "type": "string" }),
    }
}
