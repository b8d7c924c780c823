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
                    let s = match t.as_str() {
                        "int64" => json!({ "type": ["integer", "null"] }),
                        "float64" => json!({ "type": ["number", "null"] }),
                        "boolean" => json!({ "type": ["boolean", "null"] }),
                        "timestamp" => json!({ "type": ["string", "null"], "format": "date-time" }),
                        _ => json!({ "type": ["string", "null"] }),
                    };
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
