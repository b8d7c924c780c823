-- Jobs, their files, and a capped sample of each job's parse exceptions.
-- Times are RFC3339 UTC with milliseconds (fixed width), so text order is time order.

CREATE TABLE jobs (
    id                        TEXT PRIMARY KEY,
    workflow                  TEXT NOT NULL,
    workflow_path             TEXT NOT NULL,
    -- The workflow file as the job started with it: a resume runs exactly this.
    workflow_text             TEXT NOT NULL,
    table_name                TEXT NOT NULL,
    execution_status          TEXT NOT NULL,
    desired_execution_status  TEXT NOT NULL,
    health_status             TEXT NOT NULL DEFAULT 'ok',
    health_messages           TEXT NOT NULL DEFAULT '[]',
    failure_code              TEXT,
    failure_message           TEXT,
    runner_pid                INTEGER,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    started_at                TEXT,
    finished_at               TEXT
);
CREATE INDEX jobs_by_created ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_by_status ON jobs (execution_status, created_at DESC);

CREATE TABLE job_files (
    job_id                    TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq                       INTEGER NOT NULL,
    name                      TEXT NOT NULL,
    size                      INTEGER NOT NULL,
    etag                      TEXT,
    status                    TEXT NOT NULL,
    rows_processed            INTEGER NOT NULL DEFAULT 0,
    rows_with_warning         INTEGER NOT NULL DEFAULT 0,
    rows_skipped_by_filter    INTEGER NOT NULL DEFAULT 0,
    rows_skipped_by_error     INTEGER NOT NULL DEFAULT 0,
    rows_persisted            INTEGER NOT NULL DEFAULT 0,
    error_code                TEXT,
    error_message             TEXT,
    error_row                 INTEGER,
    -- Set just before the file's table commit: the Delta app-transaction version that commit
    -- carries. If the process dies before the status is recorded, resume asks the table.
    commit_version            INTEGER,
    table_version             INTEGER,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    started_at                TEXT,
    finished_at               TEXT,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX job_files_by_status ON job_files (job_id, status);

CREATE TABLE parse_exceptions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id    TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    file      TEXT NOT NULL,
    row_num   INTEGER,
    line      INTEGER,
    column_name TEXT,
    code      TEXT NOT NULL,
    message   TEXT NOT NULL,
    severity  TEXT NOT NULL
);
CREATE INDEX parse_exceptions_by_job ON parse_exceptions (job_id, id);
