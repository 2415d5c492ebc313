-- Per-connection health, written by whichever process did the work, so every process
-- (and `handoff connections`) can show it.
CREATE TABLE connection_health (
    connection       TEXT PRIMARY KEY,
    last_webhook_at  TIMESTAMPTZ,
    last_poll_at     TIMESTAMPTZ,
    last_error       TEXT,
    last_error_at    TIMESTAMPTZ,
    failing          BOOLEAN NOT NULL DEFAULT FALSE,
    budget_used      BIGINT,
    budget_limit     BIGINT
);
