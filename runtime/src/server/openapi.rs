//! `GET /v1/openapi.json`: the API as an OpenAPI 3.1 document. The end-to-end tests validate it
//! with `openapi-spec-validator` and call every path it lists, so it cannot drift from the
//! routes in [`super::api`].

use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn ok(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn path_param(name: &str, description: &str, format: Option<&str>) -> Value {
    let mut schema = json!({ "type": "string" });
    if let Some(f) = format {
        schema["format"] = f.into();
    }
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// Standard errors of an authenticated route.
fn secured(mut op: Value, permission: &str) -> Value {
    op["security"] = json!([{ "bearer": [] }, { "basic": [] }]);
    op["x-ferry-permission"] = permission.into();
    let responses = op["responses"].as_object_mut().expect("responses");
    responses.insert("401".into(), error_response("No or unknown API key"));
    responses.insert(
        "403".into(),
        error_response(&format!("The key lacks {permission}")),
    );
    responses.insert(
        "400".into(),
        error_response("Bad request (parameters, JSON with its position)"),
    );
    op
}

/// The deployer's paths (see [`super::deployments`]), all under `ManageDeployments`.
fn deployment_paths() -> Value {
    let p = "ManageDeployments";
    let id = path_param("id", "Deployment id", None);
    let infra = path_param("name", "Infra name", None);
    let op = ok(
        "The operation, RUNNING: poll /v1/operations/{id}",
        "Operation",
    );
    json!({
        "/v1/infras": { "get": secured(json!({ "summary": "Infras", "responses": { "200": { "description": "{items: [...]}" } } }), p) },
        "/v1/infras/{name}": {
            "parameters": [infra],
            "get": secured(json!({ "summary": "An infra as stored (credential names, never secrets)", "responses": { "200": { "description": "The infra" }, "404": error_response("No such infra") } }), p),
            "put": secured(json!({ "summary": "Create or replace an infra: {type, stage, settings, hosts, credentials, declared_credentials, timeout, poll_interval}", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } }, "responses": { "200": { "description": "Replaced" }, "201": { "description": "Created" } } }), p),
            "delete": secured(json!({ "summary": "Delete an infra (refused while deployments live on it)", "responses": { "200": { "description": "Deleted" }, "404": error_response("No such infra"), "409": error_response("Deployments live on it") } }), p)
        },
        "/v1/deployments": {
            "get": secured(json!({ "summary": "Deployments (light status)", "parameters": [query("service", "Only this service", json!({ "type": "string" })), query("infra", "Only on this infra", json!({ "type": "string" }))], "responses": { "200": { "description": "{items: [Deployment]}" } } }), p),
            "post": secured(json!({ "summary": "Record a deployment: {id, service, infra, version | versions: [{version, percent}], enabled}; POST .../update applies it", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["id", "service", "infra"] } } } }, "responses": { "201": ok("The deployment", "Deployment"), "404": error_response("Unknown infra or package version"), "409": error_response("The id is taken") } }), p)
        },
        "/v1/deployments/{id}": {
            "parameters": [id.clone()],
            "get": secured(json!({ "summary": "Light status: desired and last observed", "responses": { "200": ok("The deployment", "Deployment"), "404": error_response("No such deployment") } }), p),
            "put": secured(json!({ "summary": "Change desired state: {enabled, version | versions}; POST .../update applies it", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "properties": { "enabled": { "type": "boolean" }, "version": { "type": "string" }, "versions": { "type": "array" } } } } } }, "responses": { "200": ok("The deployment", "Deployment"), "404": error_response("No such deployment") } }), p),
            "delete": secured(json!({ "summary": "Remove it from its infra, then delete it (refused while enabled unless disableFirst=true)", "parameters": [query("disableFirst", "Disable it first if enabled", json!({ "type": "boolean" }))], "responses": { "202": op.clone(), "404": error_response("No such deployment"), "409": error_response("Enabled, or an operation is running") } }), p)
        },
        "/v1/deployments/{id}/status": { "parameters": [id.clone()], "get": secured(json!({ "summary": "Heavy status: asks the infra now (per node / cloud resource), records it", "responses": { "200": { "description": "The deployment with resources" }, "404": error_response("No such deployment") } }), p) },
        "/v1/deployments/{id}/update": { "parameters": [id.clone()], "post": secured(json!({ "summary": "Make the infra match the desired state, in the background", "responses": { "202": op, "404": error_response("No such deployment"), "409": error_response("An operation is running") } }), p) },
        "/v1/deployments/{id}/operations": { "parameters": [id], "get": secured(json!({ "summary": "The deployment's operations, newest first", "responses": { "200": { "description": "{items: [Operation]}" }, "404": error_response("No such deployment") } }), p) },
        "/v1/operations/{id}": { "parameters": [path_param("id", "Operation id", None)], "get": secured(json!({ "summary": "An operation: RUNNING, DONE or FAILED with the infra's message", "responses": { "200": ok("The operation", "Operation"), "404": error_response("No such operation") } }), p) }
    })
}

/// The tables' paths: what each is, compaction and vacuum.
fn table_paths() -> Value {
    json!({
            "/v1/tables": { "get": secured(json!({ "summary": "The home's Delta tables: version, files, bytes, rows, last commit", "responses": { "200": { "description": "Tables" } } }), "ViewJobs") },
        "/v1/tables/{name}": {
            "parameters": [path_param("name", "Table name", None)],
            "get": secured(json!({ "summary": "A table: columns, version, files, bytes, rows, last commit and its job", "responses": { "200": { "description": "Table" }, "400": error_response("Not a table name"), "404": error_response("No such table") } }), "ViewJobs")
        },
        "/v1/tables/{name}/compact": {
            "parameters": [path_param("name", "Table name", None)],
            "post": secured(json!({ "summary": "Rewrite the table's small data files into large ones in one commit (Delta OPTIMIZE); files an object keeps for on_change = reimport stay", "requestBody": { "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "targetFileSize": { "type": "string", "example": "128MiB" } } } } } }, "responses": { "200": { "description": "What was rewritten: version, filesRemoved, filesAdded, rows, bytesRemoved, bytesAdded, filesKept" }, "404": error_response("No such table"), "409": error_response("Another commit removed a file being compacted") } }), "ManageIngestionJobs")
        },
        "/v1/query": {
            "post": secured(json!({ "summary": "One read-only SQL query over the tables (each by its name), on DataFusion; at most 10,000 rows, 30 s, 512 MiB", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["sql"], "additionalProperties": false, "properties": { "sql": { "type": "string", "example": "SELECT prediction_label, count(*) FROM predictions GROUP BY 1" }, "maxRows": { "type": "integer", "minimum": 0, "description": "Lowers the row limit" } } } } } }, "responses": { "200": { "description": "{columns: [{name, type}], rows: [{…}], rowCount}" }, "400": error_response("Not a query (not_a_query), an unknown table or column, a type error (invalid_query), over a limit (query_limit)") } }), "ViewJobs")
        },
        "/v1/tables/{name}/vacuum": {
            "parameters": [path_param("name", "Table name", None)],
            "post": secured(json!({ "summary": "Delete files no version within the retention needs (removed ones, and ones failed objects staged)", "requestBody": { "required": false, "content": { "application/json": { "schema": { "type": "object", "properties": { "retain": { "type": "string", "example": "7d" }, "dryRun": { "type": "boolean" } } } } } }, "responses": { "200": { "description": "dryRun and filesDeleted" }, "404": error_response("No such table"), "409": error_response("A job is writing to the table") } }), "ManageIngestionJobs")
        }
    })
}

/// The secret store's and project variables' paths.
fn settings_paths() -> Value {
    let secret = json!({ "type": "object", "properties": { "credential": { "type": "string" }, "field": { "type": "string" }, "set": { "type": "boolean" }, "updatedAt": { "type": ["string", "null"], "format": "date-time" } } });
    let variable = json!({ "type": "object", "properties": { "name": { "type": "string" }, "value": { "type": "string" }, "updatedAt": { "type": "string", "format": "date-time" } } });
    let value_body = |what: &str| json!({ "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["value"], "additionalProperties": false, "properties": { "value": { "type": "string", "description": what } } } } } });
    json!({
        "/v1/secrets": { "get": secured(json!({ "summary": "The stored secrets' names (credential, field, updatedAt); never their values", "responses": { "200": { "description": "{items: [...]}" } } }), "ManageSecrets") },
        "/v1/secrets/{credential}/{field}": {
            "parameters": [path_param("credential", "Credential name, as a workflow or infra declares it", None), path_param("field", "access_key_id, secret_access_key, session_token, token, access_token or service_account_key", None)],
            "get": secured(json!({ "summary": "Whether the secret is stored (never its value)", "responses": { "200": { "description": "{credential, field, set, updatedAt}", "content": { "application/json": { "schema": secret.clone() } } }, "400": error_response("Not a credential name or secret field") } }), "ManageSecrets"),
            "put": secured(json!({ "summary": "Store the secret, sealed under the home's master key; the answer does not repeat it", "requestBody": value_body("The secret value"), "responses": { "201": { "description": "Stored", "content": { "application/json": { "schema": secret.clone() } } }, "200": { "description": "Replaced" }, "400": error_response("Not a credential name or secret field, or an empty value") } }), "ManageSecrets"),
            "delete": secured(json!({ "summary": "Remove the stored secret", "responses": { "200": { "description": "{deleted: {credential, field}}" }, "404": error_response("Not stored") } }), "ManageSecrets")
        },
        "/v1/variables": { "get": secured(json!({ "summary": "Project variables: values for ${name} in every workflow", "responses": { "200": { "description": "{items: [Variable]}" } } }), "ViewJobs") },
        "/v1/variables/{name}": {
            "parameters": [path_param("name", "Variable name", None)],
            "get": secured(json!({ "summary": "A project variable", "responses": { "200": { "description": "The variable", "content": { "application/json": { "schema": variable.clone() } } }, "404": error_response("No such variable") } }), "ViewJobs"),
            "put": secured(json!({ "summary": "Set a project variable (a trigger's variables override it)", "requestBody": value_body("The value; no quotes, backslashes or newlines"), "responses": { "201": { "description": "Set", "content": { "application/json": { "schema": variable } } }, "200": { "description": "Replaced" }, "400": error_response("Not a variable name, or a value that could not go in a TOML string") } }), "ManageWorkflows"),
            "delete": secured(json!({ "summary": "Remove a project variable", "responses": { "200": { "description": "{deleted: name}" }, "404": error_response("No such variable") } }), "ManageWorkflows")
        }
    })
}

/// Project exports: a selection in, a zip out (as UbiOps' exports).
fn export_paths() -> Value {
    let by_name = json!({ "type": "object", "description": "By name; \"*\" for all", "additionalProperties": { "type": "object" } });
    let selection = json!({ "type": "object", "additionalProperties": false, "description": "What to export. Nothing named exports everything, without secret values.", "properties": {
        "workflows": by_name.clone(), "infras": by_name.clone(), "deployments": by_name.clone(), "plugins": by_name.clone(), "variables": by_name.clone(),
        "services": { "type": "object", "additionalProperties": { "type": "object", "properties": { "versions": { "type": "array", "items": { "type": "string" }, "description": "Default: all versions" } } } },
        "secrets": { "type": "object", "description": "By `credential.field`", "additionalProperties": { "type": "object", "properties": { "includeValue": { "type": "boolean", "description": "Put the value in secrets.age, encrypted to `passphrase` (needs ManageSecrets too)" } } } },
        "passphrase": { "type": "string", "minLength": 8, "description": "Encrypts secrets.age (age, scrypt); required with includeValue, never stored" } } });
    let export = json!({ "$ref": "#/components/schemas/Export" });
    let status = query(
        "status",
        "Only exports in this status",
        json!({ "enum": ["pending", "processing", "completed", "failed"] }),
    );
    json!({
        "/v1/exports": {
            "get": secured(json!({ "summary": "Exports, newest first", "parameters": [status], "responses": { "200": { "description": "{items: [Export]}" }, "400": error_response("Unknown status") } }), "ManageExports"),
            "post": secured(json!({ "summary": "Start an export; it is checked now and written in the background", "requestBody": { "required": false, "content": { "application/json": { "schema": selection } } }, "responses": { "201": { "description": "Pending", "content": { "application/json": { "schema": export.clone() } } }, "400": error_response("An unknown name, a missing or weak passphrase, a plugin outside the workflows directory"), "403": error_response("includeValue without ManageSecrets") } }), "ManageExports")
        },
        "/v1/exports/{id}": {
            "parameters": [path_param("id", "Export id", None)],
            "get": secured(json!({ "summary": "An export: status, objects, size", "responses": { "200": { "description": "The export", "content": { "application/json": { "schema": export } } }, "404": error_response("No such export") } }), "ManageExports"),
            "delete": secured(json!({ "summary": "Delete a finished export and its zip", "responses": { "200": { "description": "{deleted: id}" }, "404": error_response("No such export"), "409": error_response("Still being written") } }), "ManageExports")
        },
        "/v1/exports/{id}/download": {
            "parameters": [path_param("id", "Export id", None)],
            "get": secured(json!({ "summary": "The export zip (ferry-export.json lists every file with its SHA-256)", "responses": { "200": { "description": "application/zip", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } }, "404": error_response("No such export"), "409": error_response("Not completed") } }), "ManageExports")
        }
    })
}

/// Project imports: a zip, a link or an export id in; scanned, confirmed, processed all or
/// nothing (as UbiOps' imports).
fn import_paths() -> Value {
    let import = json!({ "$ref": "#/components/schemas/Import" });
    let pick = json!({ "type": "object", "required": ["kind", "name"], "additionalProperties": false, "properties": {
        "kind": { "enum": ["workflow", "plugin", "service", "infra", "deployment", "variable", "secret"] },
        "name": { "type": "string" },
        "onConflict": { "enum": ["skip", "replace", "rename"] },
        "enabled": { "type": "boolean", "description": "A deployment's: start enabled" } } });
    let confirmation = json!({ "type": "object", "additionalProperties": false, "properties": {
        "objects": { "type": "array", "items": pick.clone(), "description": "Only these objects (default: every object of the export)" },
        "overrides": { "type": "array", "items": pick, "description": "Conflict modes or enabled states for single objects, without narrowing the choice" },
        "onConflict": { "enum": ["skip", "replace", "rename"], "description": "For conflicting objects that say nothing; none: a conflict is a 400" },
        "enableDeployments": { "type": "boolean", "description": "Imported deployments start enabled (default: disabled)" },
        "passphrase": { "type": "string", "description": "Opens the export's secrets.age; never stored (needs ManageSecrets)" },
        "secrets": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Values by credential.field, over the export's; never stored in the record (needs ManageSecrets)" } } });
    let mut create = confirmation.clone();
    create["properties"]["importLink"] = json!({ "type": "string", "format": "uri", "description": "Fetched by the server; its host must be in import_hosts" });
    create["properties"]["exportId"] =
        json!({ "type": "string", "description": "A completed export of this home" });
    create["properties"]["skipConfirmation"] = json!({ "type": "boolean", "description": "Process at once with the choices in this body" });
    let status = query(
        "status",
        "Only imports in this status",
        json!({ "enum": ["pending", "scanning", "confirmation", "processing", "completed", "failed"] }),
    );
    let zip = json!({ "type": "string", "format": "binary" });
    json!({
        "/v1/imports": {
            "get": secured(json!({ "summary": "Imports, newest first", "parameters": [status], "responses": { "200": { "description": "{items: [Import]}" }, "400": error_response("Unknown status") } }), "ManageImports"),
            "post": secured(json!({ "summary": "Start an import of an export zip (raw or multipart `file`), a link or an export id; it is scanned in the background", "parameters": [query("skipConfirmation", "With a raw or multipart zip: process at once, importing everything", json!({ "type": "boolean" }))], "requestBody": { "required": true, "content": { "application/zip": { "schema": zip.clone() }, "multipart/form-data": { "schema": { "type": "object", "properties": { "file": zip } } }, "application/json": { "schema": create } } }, "responses": { "201": { "description": "Pending", "content": { "application/json": { "schema": import.clone() } } }, "400": error_response("A link to a host that is not allowed, an export that is not completed, no zip"), "403": error_response("Secret values without ManageSecrets"), "413": error_response("Larger than max_upload") } }), "ManageImports")
        },
        "/v1/imports/{id}": {
            "parameters": [path_param("id", "Import id", None)],
            "get": secured(json!({ "summary": "An import: status, what the scan found (state, missing, needsValue), what processing did", "responses": { "200": { "description": "The import", "content": { "application/json": { "schema": import.clone() } } }, "404": error_response("No such import") } }), "ManageImports"),
            "patch": secured(json!({ "summary": "The confirmation: the objects, conflict modes and secret values; processed all or nothing before the answer", "requestBody": { "required": false, "content": { "application/json": { "schema": confirmation } } }, "responses": { "200": { "description": "Completed, or failed with nothing of it kept", "content": { "application/json": { "schema": import } } }, "400": error_response("An unknown object, an unsettled conflict, an unsatisfiable deployment, a secret without a value, a wrong passphrase (the import keeps waiting)"), "403": error_response("Secret values without ManageSecrets"), "404": error_response("No such import"), "409": error_response("Not in confirmation") } }), "ManageImports"),
            "delete": secured(json!({ "summary": "Delete an import and its zip", "responses": { "200": { "description": "{deleted: id}" }, "404": error_response("No such import"), "409": error_response("Being scanned or processed") } }), "ManageImports")
        },
        "/v1/imports/{id}/download": {
            "parameters": [path_param("id", "Import id", None)],
            "get": secured(json!({ "summary": "The import's zip", "responses": { "200": { "description": "application/zip", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } }, "404": error_response("No such import"), "409": error_response("Its zip is not kept") } }), "ManageImports")
        }
    })
}

fn deployment_schemas() -> Value {
    json!({
        "Import": { "type": "object", "required": ["id", "status", "source", "creationDate", "updatedAt"], "properties": {
            "id": { "type": "string" }, "status": { "enum": ["pending", "scanning", "confirmation", "processing", "completed", "failed"] },
            "source": { "type": "string", "description": "upload, link <url without its query>, or export <id>" },
            "size": { "type": ["integer", "null"] },
            "objects": { "type": "array", "description": "What the scan found: kind, name, state (new|identical|conflict), versions, missing, unsatisfiable, valueIncluded, needsValue", "items": { "type": "object" } },
            "confirmation": { "type": "object", "description": "What the confirmation chose (never a secret value)" },
            "result": { "type": "array", "description": "Once completed: each object's action (created|replaced|unchanged|skipped|renamed), to, versions, enabled", "items": { "type": "object" } },
            "errorMessage": { "type": ["string", "null"] },
            "creationDate": { "type": "string", "format": "date-time" }, "updatedAt": { "type": "string", "format": "date-time" } } },
        "Export": { "type": "object", "required": ["id", "status", "selection", "creationDate", "updatedAt"], "properties": {
            "id": { "type": "string" }, "status": { "enum": ["pending", "processing", "completed", "failed"] },
            "selection": { "type": "object", "description": "What was asked for (names only)" },
            "objects": { "type": "array", "description": "Once completed: each object's kind, name, files, dependsOn (with inExport)", "items": { "type": "object" } },
            "size": { "type": ["integer", "null"], "description": "The zip's bytes, once completed" },
            "errorMessage": { "type": ["string", "null"] },
            "creationDate": { "type": "string", "format": "date-time" }, "updatedAt": { "type": "string", "format": "date-time" } } },
        "Deployment": { "type": "object", "required": ["id", "service", "infra", "desired"], "properties": {
            "id": { "type": "string" }, "service": { "type": "string" }, "infra": { "type": "string" },
            "desired": { "type": "object", "properties": { "enabled": { "type": "boolean" }, "versions": { "type": "array", "items": { "type": "object", "properties": { "version": { "type": "string" }, "percent": { "type": "integer" } } } } } },
            "observed": { "type": ["object", "null"], "properties": {
                "health": { "enum": ["HEALTHY", "UNHEALTHY", "DEGRADED", "DISABLED", "UNKNOWN"] },
                "messages": { "type": "array", "items": { "type": "string" } },
                "versions": { "type": "array", "items": { "type": "string" } },
                "urls": { "type": "array", "items": { "type": "string" } },
                "checkedAt": { "type": "string", "format": "date-time" } } },
            "createdAt": { "type": "string" }, "updatedAt": { "type": "string" } } },
        "Operation": { "type": "object", "required": ["id", "deployment", "action", "status"], "properties": {
            "id": { "type": "string" }, "deployment": { "type": "string" },
            "action": { "enum": ["update", "delete"] }, "status": { "enum": ["RUNNING", "DONE", "FAILED"] },
            "message": { "type": "string" }, "errorCode": { "type": ["string", "null"] },
            "createdAt": { "type": "string" }, "finishedAt": { "type": ["string", "null"] } } }
    })
}

pub fn document() -> Value {
    let mut doc = base_document();
    let extra = [
        table_paths(),
        settings_paths(),
        export_paths(),
        import_paths(),
        deployment_paths(),
    ];
    for (k, v) in extra
        .iter()
        .flat_map(|p| p.as_object().expect("paths").clone())
    {
        doc["paths"][k] = v;
    }
    for (k, v) in deployment_schemas().as_object().expect("schemas").clone() {
        doc["components"]["schemas"][k] = v;
    }
    doc
}

fn base_document() -> Value {
    let id = path_param("id", "Job id", Some("uuid"));
    let name = path_param("name", "Workflow name (the file stem)", None);
    let time = json!({ "type": "string", "format": "date-time" });
    let paging = [
        query(
            "limit",
            "Page size (1–1000, default 100)",
            json!({ "type": "integer", "minimum": 1, "maximum": 1000 }),
        ),
        query(
            "cursor",
            "The previous page's nextCursor",
            json!({ "type": "string" }),
        ),
        query(
            "since",
            "Only items updated at or after (RFC3339)",
            time.clone(),
        ),
        query("until", "Only items updated before (RFC3339)", time.clone()),
    ];
    let statuses = json!({ "type": "array", "items": { "type": "string" } });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ferry",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Trigger ferry workflows and follow their jobs. Errors are {\"error\": {\"code\", \"message\"}}; times are RFC3339; keys are camelCase."
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "An API key from `ferry keys create`" },
                "basic": { "type": "http", "scheme": "basic", "description": "The API key as the user name" }
            },
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": { "error": { "type": "object", "required": ["code", "message"],
                        "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } }
                },
                "Job": {
                    "type": "object",
                    "required": ["id", "workflow", "executionStatus", "desiredExecutionStatus", "health", "metrics", "files", "createdAt"],
                    "properties": {
                        "id": { "type": "string", "format": "uuid" },
                        "workflow": { "type": "string" },
                        "table": { "type": "string" },
                        "executionStatus": { "enum": ["CREATED", "RUNNING", "SUCCESS", "SUCCESS_WITH_WARNING", "NO_ROWS_INGESTED", "FAILED", "CANCELED"] },
                        "desiredExecutionStatus": { "enum": ["RUNNING", "CANCELED"] },
                        "health": { "type": "object", "properties": { "status": { "enum": ["ok", "warn", "error"] }, "messages": { "type": "array", "items": { "type": "string" } } } },
                        "failure": { "type": "object", "properties": { "code": { "type": "string" }, "message": { "type": "string" }, "row": { "type": ["integer", "null"] } } },
                        "metrics": { "$ref": "#/components/schemas/Metrics" },
                        "files": { "type": "object", "additionalProperties": { "type": "integer" } },
                        "createdAt": { "type": "string", "format": "date-time" },
                        "updatedAt": { "type": "string", "format": "date-time" },
                        "startedAt": { "type": "string", "format": "date-time" },
                        "finishedAt": { "type": "string", "format": "date-time" },
                        "ingestionMode": { "enum": ["append", "replace", "merge"] },
                        "mergeKey": { "type": "array", "items": { "type": "string" }, "description": "A merge's key columns" },
                        "mappings": { "type": "array", "description": "The validate step's mappings in effect for this job", "items": { "type": "object", "required": ["column", "expression"], "properties": {
                            "column": { "type": "string" }, "expression": { "type": "string" }, "aggregation": { "type": "boolean" } } } }
                    }
                },
                "Metrics": {
                    "type": "object",
                    "properties": {
                        "numRowsProcessed": { "type": "integer" },
                        "numRowsProcessedWithWarning": { "type": "integer" },
                        "numRowsSkippedByFilter": { "type": "integer" },
                        "numRowsSkippedByError": { "type": "integer" },
                        "numRowsPersisted": { "type": "integer" }
                    }
                },
                "JobPage": { "type": "object", "required": ["items"], "properties": {
                    "items": { "type": "array", "items": { "$ref": "#/components/schemas/Job" } },
                    "nextCursor": { "type": "string" } } },
                "File": { "type": "object", "properties": {
                    "seq": { "type": "integer" }, "name": { "type": "string" }, "size": { "type": "integer" },
                    "status": { "enum": ["pending", "running", "passed", "failed", "skipped"] },
                    "error": { "type": "object" } } },
                "FilePage": { "type": "object", "required": ["items"], "properties": {
                    "items": { "type": "array", "items": { "$ref": "#/components/schemas/File" } },
                    "nextCursor": { "type": "string" } } },
                "Workflow": { "type": "object", "required": ["name", "valid"], "properties": {
                    "name": { "type": "string" }, "description": { "type": ["string", "null"] },
                    "table": { "type": ["string", "null"] }, "source": { "type": ["string", "null"] },
                    "parser": { "type": ["string", "null"] }, "valid": { "type": "boolean" },
                    "problems": { "type": "array", "items": { "type": "string" } },
                    "text": { "type": "string" } } },
                "TriggerRequest": { "type": "object", "additionalProperties": false, "properties": {
                    "dryRun": { "type": "boolean", "description": "Run the real path on one file and write nothing" },
                    "fileName": { "type": "string", "description": "Only this object (with dryRun: the one to try)" },
                    "variables": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Values for ${name} in the workflow text" } } },
                "ApiKey": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" },
                    "permissions": { "type": "array", "items": { "enum": ["ViewJobs", "ManageIngestionJobs", "ManageWorkflows", "ManageKeys", "ManageDeployments", "ManageSecrets", "ManageExports", "ManageImports", "UseServices"] } },
                    "key": { "type": "string", "description": "Only in the answer to its creation" } } }
            }
        },
        "paths": {
            "/healthz": { "get": { "summary": "Liveness", "responses": { "200": { "description": "Alive" } } } },
            "/readyz": { "get": { "summary": "Readiness (job store reachable, not draining)", "responses": { "200": { "description": "Ready" }, "503": error_response("Not ready") } } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "Text exposition format", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
            "/v1/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3.1" } } } },
            "/v1/workflows": { "get": secured(json!({ "summary": "Registered workflows", "responses": { "200": { "description": "Workflows", "content": { "application/json": { "schema": { "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Workflow" } } } } } } } } }), "ViewJobs") },
            "/v1/workflows/{name}": {
                "parameters": [name.clone()],
                "get": secured(json!({ "summary": "A workflow and its text", "responses": { "200": ok("The workflow", "Workflow"), "404": error_response("No such workflow") } }), "ViewJobs"),
                "put": secured(json!({ "summary": "Register or replace a workflow (validated first)", "requestBody": { "required": true, "content": { "application/toml": { "schema": { "type": "string" } } } }, "responses": { "200": ok("Replaced", "Workflow"), "201": ok("Registered", "Workflow") } }), "ManageWorkflows"),
                "delete": secured(json!({ "summary": "Unregister a workflow", "responses": { "200": { "description": "Deleted" }, "404": error_response("No such workflow") } }), "ManageWorkflows")
            },
            "/v1/workflows/{name}/jobs": {
                "parameters": [name.clone()],
                "post": secured(json!({ "summary": "Trigger a job (or a dry run)", "requestBody": { "required": false, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/TriggerRequest" } } } }, "responses": { "201": ok("The created job", "Job"), "200": { "description": "The dry run's result" }, "404": error_response("No such workflow") } }), "ManageIngestionJobs")
            },
            "/v1/jobs": { "get": secured(json!({
                "summary": "Jobs, newest first",
                "parameters": [
                    query("status", "Execution status; repeat to OR", statuses.clone()),
                    query("healthStatus", "ok, warn or error; repeat to OR", statuses.clone()),
                    query("workflow", "Workflow name; repeat to OR", statuses.clone()),
                    paging[0].clone(), paging[1].clone(), paging[2].clone(), paging[3].clone()
                ],
                "responses": { "200": ok("A page of jobs", "JobPage") } }), "ViewJobs") },
            "/v1/jobs/{id}": {
                "parameters": [id.clone()],
                "get": secured(json!({ "summary": "One job", "responses": { "200": ok("The job", "Job"), "404": error_response("No such job") } }), "ViewJobs"),
                "put": secured(json!({ "summary": "Cancel: set desiredExecutionStatus to canceled", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "additionalProperties": false, "required": ["desiredExecutionStatus"], "properties": { "desiredExecutionStatus": { "enum": ["canceled", "CANCELED"] } } } } } }, "responses": { "200": ok("The job, desired status set", "Job"), "404": error_response("No such job"), "409": error_response("The job is already finished") } }), "ManageIngestionJobs")
            },
            "/v1/jobs/{id}/metrics": { "parameters": [id.clone()], "get": secured(json!({ "summary": "Row totals", "responses": { "200": { "description": "{\"totals\": {...}, \"files\": {...}}" }, "404": error_response("No such job") } }), "ViewJobs") },
            "/v1/jobs/{id}/files": { "parameters": [id.clone()], "get": secured(json!({
                "summary": "The job's files",
                "parameters": [query("status", "File status; repeat to OR", statuses.clone()), paging[0].clone(), paging[1].clone(), paging[2].clone(), paging[3].clone()],
                "responses": { "200": ok("A page of files", "FilePage"), "404": error_response("No such job") } }), "ViewJobs") },
            "/v1/jobs/{id}/logs": { "parameters": [id.clone()], "get": secured(json!({ "summary": "Parse exceptions, health messages, failure", "responses": { "200": { "description": "The job's log" }, "404": error_response("No such job") } }), "ViewJobs") },
            "/v1/uploads": { "post": secured(json!({
                "summary": "Upload a file into the upload area (source-local reads it)",
                "parameters": [ { "name": "name", "in": "query", "required": true, "description": "File name (path under the upload area)", "schema": { "type": "string" } } ],
                "requestBody": { "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                "responses": { "201": { "description": "Stored: {name, size}" }, "413": error_response("Larger than the upload limit") } }), "ManageIngestionJobs") },
            "/v1/triggers/{name}": { "parameters": [name.clone()], "post": secured(json!({
                "summary": "Webhook: an S3 event notification or GCS Pub/Sub push starts a job for exactly its objects",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } },
                "responses": { "201": ok("The created job", "Job"), "404": error_response("No such workflow") } }), "ManageIngestionJobs") },
            "/v1/keys": {
                "get": secured(json!({ "summary": "API keys (never their secrets)", "responses": { "200": { "description": "Keys" } } }), "ManageKeys"),
                "post": secured(json!({ "summary": "Create a key; the answer holds it once", "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object", "required": ["name", "permissions"], "properties": { "name": { "type": "string" }, "permissions": { "type": "array", "items": { "type": "string" } } } } } } }, "responses": { "201": ok("The key", "ApiKey"), "409": error_response("The name is taken") } }), "ManageKeys")
            },
            "/v1/services": { "get": secured(json!({ "summary": "Services with packages, and their versions", "responses": { "200": { "description": "Services" } } }), "ViewJobs") },
            "/v1/services/{service}/packages": {
                "parameters": [path_param("service", "Service id", None)],
                "get": secured(json!({ "summary": "A service's packages, oldest version first", "responses": { "200": { "description": "Packages" } } }), "ViewJobs"),
                "post": secured(json!({ "summary": "Import a package zip (verified: checksums, paths, size); versions are immutable", "requestBody": { "required": true, "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } }, "responses": { "201": { "description": "The imported package's manifest" }, "409": error_response("The version exists"), "413": error_response("Larger than the upload limit") } }), "ManageWorkflows")
            },
            "/v1/services/{service}/packages/{version}": {
                "parameters": [path_param("service", "Service id", None), path_param("version", "Package version", None)],
                "get": secured(json!({ "summary": "A package's manifest", "responses": { "200": { "description": "Manifest" }, "404": error_response("No such package") } }), "ViewJobs"),
                "delete": secured(json!({ "summary": "Delete a package version", "responses": { "200": { "description": "Deleted" }, "404": error_response("No such package") } }), "ManageWorkflows")
            },
            "/v1/services/{service}/packages/{version}/download": {
                "parameters": [path_param("service", "Service id", None), path_param("version", "Package version", None)],
                "get": secured(json!({ "summary": "The package zip", "responses": { "200": { "description": "application/zip", "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } }, "404": error_response("No such package") } }), "ViewJobs")
            },
            "/v1/node/services": { "get": secured(json!({ "summary": "API node: the services it serves", "responses": { "200": { "description": "Services and versions" } } }), "ManageDeployments") },
            "/v1/node/services/{service}": {
                "parameters": [path_param("service", "Service id", None)],
                "put": secured(json!({ "summary": "API node: serve this package (verified), replacing the service's version atomically", "requestBody": { "required": true, "content": { "application/zip": { "schema": { "type": "string", "format": "binary" } } } }, "responses": { "200": { "description": "Now serving {service, version}" } } }), "ManageDeployments"),
                "delete": secured(json!({ "summary": "API node: stop serving the service", "responses": { "200": { "description": "Stopped" }, "404": error_response("Not served here") } }), "ManageDeployments")
            },
            "/v1/keys/{name}": { "parameters": [path_param("name", "Key name or id", None)], "delete": secured(json!({ "summary": "Revoke a key", "responses": { "200": ok("The revoked key", "ApiKey") } }), "ManageKeys") }
        }
    })
}
