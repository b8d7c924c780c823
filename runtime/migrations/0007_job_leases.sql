-- Exclusive ownership of a running job: a lease row, renewed while the job runs. A process
-- may run a job only when it holds the lease; another may take it over once the lease has
-- expired, or at once when the holder is a process of this host that no longer exists.
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_host TEXT;
ALTER TABLE jobs ADD COLUMN lease_pid INTEGER;
ALTER TABLE jobs ADD COLUMN lease_expires_at TEXT;
