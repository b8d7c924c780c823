-- Packages a job's package step built: [{"service": …, "version": …}].
ALTER TABLE jobs ADD COLUMN packages TEXT NOT NULL DEFAULT '[]';
