-- The incremental ledger is keyed by where objects came from and where their rows went, not
-- by the workflow alone: a workflow pointed at another bucket, endpoint, root or table starts
-- afresh instead of silently skipping objects it never imported there.
--
-- `source_id` is the source's identity (plugin + the settings that name the store + granted
-- directories), as the job that imported the object saw it. Rows recorded before this
-- migration have `source_id = ''` and count for any source of their workflow and table.
ALTER TABLE jobs ADD COLUMN source_id TEXT NOT NULL DEFAULT '';
-- How many listed objects an incremental run left out because earlier jobs imported them.
ALTER TABLE jobs ADD COLUMN already_imported INTEGER NOT NULL DEFAULT 0;
-- The data files (table-relative paths) an object's commit added: a reimport of the object
-- removes them in the commit that adds its new rows.
ALTER TABLE job_files ADD COLUMN data_files TEXT;

CREATE TABLE imported_objects_by_source (
    workflow     TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    table_name   TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    etag         TEXT,
    job_id       TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    data_files   TEXT,
    PRIMARY KEY (workflow, source_id, table_name, object_key)
);
INSERT INTO imported_objects_by_source
    (workflow, source_id, table_name, object_key, etag, job_id, imported_at)
SELECT o.workflow, '', COALESCE(j.table_name, ''), o.object_key, o.etag, o.job_id, o.imported_at
FROM imported_objects o LEFT JOIN jobs j ON j.id = o.job_id;
DROP TABLE imported_objects;
ALTER TABLE imported_objects_by_source RENAME TO imported_objects;
