-- Per-connection health, written by whichever process did the work, so every process
-- (and `handoff connections`) can show it.
CREATE TABLE connection_health (
    connection       TEXT PRIMARY KEY,
    last_webhook_at  TEXT,
    last_poll_at     TEXT,
    last_error       TEXT,
    last_error_at    TEXT,
    failing          INTEGER NOT NULL DEFAULT 0,
    budget_used      INTEGER,
    budget_limit     INTEGER
);
