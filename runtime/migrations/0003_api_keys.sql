-- API keys for `ferry serve`. Only a SHA-256 of each key is kept; the key itself is shown once.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    key_hash      TEXT NOT NULL,
    permissions   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);
