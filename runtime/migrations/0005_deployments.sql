-- Where deployments run: declared in TOML, kept with their credential declarations (never a
-- secret value) so that any later command can reach the infra again.
CREATE TABLE infras (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    stage TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A service on an infra. Desired state is what users set; observed state is what the last
-- reconciliation or status check saw; plugin_state is the deployer's own record of the
-- resources it created (names, ids), opaque to ferry.
CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    infra TEXT NOT NULL REFERENCES infras(name),
    desired_versions TEXT NOT NULL,
    desired_enabled INTEGER NOT NULL,
    observed TEXT,
    plugin_state TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX deployments_by_service ON deployments(service);

-- Reconciliations (update, delete) to wait on. A finished one never changes again. The
-- process running one is recorded, so that one left RUNNING by a killed process is known.
CREATE TABLE deployment_operations (
    id TEXT PRIMARY KEY,
    deployment TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    runner_pid INTEGER NOT NULL,
    runner TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    error_code TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX deployment_operations_by_deployment ON deployment_operations(deployment, created_at);

-- What a job's deploy step did: [{"deployment": …, "operation": …}].
ALTER TABLE jobs ADD COLUMN deployments TEXT NOT NULL DEFAULT '[]';
