-- Per-connection sync state: OAuth tokens (sealed with the master key), poll cursors,
-- and leases that let exactly one handoff process do a thing at a time (refresh a
-- token, run a poll) when several share this database.
CREATE TABLE connection_tokens (
    connection     TEXT PRIMARY KEY,
    -- AES-256-GCM sealed JSON {access_token, refresh_token, instance_url}; see src/sealed.rs.
    sealed         TEXT NOT NULL,
    expires_at     TIMESTAMPTZ,
    -- Bumped on every write, so a writer can tell it saw the latest token.
    version        BIGINT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE poll_cursors (
    connection  TEXT NOT NULL,
    object      TEXT NOT NULL,
    -- Opaque to the store: the connector's own cursor (a timestamp and a tie-break id).
    cursor      TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection, object)
);
