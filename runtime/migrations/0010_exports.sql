-- Project exports: what was asked for and how it went. The zip itself lives in
-- <home>/exports/<id>.zip; a passphrase given for secret values is never stored.
CREATE TABLE exports (
    id             TEXT PRIMARY KEY,
    status         TEXT NOT NULL,
    selection      TEXT NOT NULL,
    objects        TEXT,
    size           INTEGER,
    error_message  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX exports_by_status ON exports (status, created_at);
