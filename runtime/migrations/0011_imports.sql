-- Project imports: where the zip came from, what the scan found, what the confirmation chose
-- and what processing did. The zip and the processing journal live in <home>/imports/<id>/;
-- secret values and passphrases given at confirmation are never stored.
CREATE TABLE imports (
    id              TEXT PRIMARY KEY,
    status          TEXT NOT NULL,
    source          TEXT NOT NULL,
    size            INTEGER,
    objects         TEXT,
    confirmation    TEXT,
    result          TEXT,
    error_message   TEXT,
    -- The process processing it (`host pid owner`), so a killed one is rolled back.
    processor_host  TEXT,
    processor_pid   INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX imports_by_status ON imports (status, created_at);
