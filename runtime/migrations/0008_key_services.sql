-- A key may be limited to some services (comma-separated ids; empty = every service), for
-- the public endpoints of services that require API keys.
ALTER TABLE api_keys ADD COLUMN services TEXT NOT NULL DEFAULT '';
