-- Objects each workflow has passed, with the ETag/generation they had: an incremental run
-- skips them. Written in the same transaction as the file's `passed` status.
CREATE TABLE imported_objects (
    workflow     TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    etag         TEXT,
    job_id       TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    PRIMARY KEY (workflow, object_key)
);
