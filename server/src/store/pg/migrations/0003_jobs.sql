-- codesource schema, version 3: cleanup jobs (the work that must follow an unbind, written in
-- the same transaction as the binding's removal). Same rules as 0001.

-- leased_until_ms = 0: not leased. The JSON record holds the job; the columns are what the
-- claim filters on.
CREATE TABLE cleanup_jobs (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    record TEXT NOT NULL,
    next_at_ms BIGINT NOT NULL,
    leased_until_ms BIGINT NOT NULL
);
CREATE INDEX cleanup_jobs_due ON cleanup_jobs (next_at_ms);
