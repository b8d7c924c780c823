-- The secret store: one row per credential field, the value sealed under the home's master
-- key (ChaCha20-Poly1305, bound to its credential and field); never the value itself.
CREATE TABLE secrets (
    credential  TEXT NOT NULL,
    field       TEXT NOT NULL,
    sealed      BLOB NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (credential, field)
);

-- Project variables: `${name}` in a workflow's text, for every workflow of the home.
CREATE TABLE variables (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
