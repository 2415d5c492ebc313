-- Per-connection sync state: OAuth tokens (sealed with the master key), poll cursors,
-- and leases that let exactly one handoff process do a thing at a time (refresh a
-- token, run a poll) when several share this database.
CREATE TABLE connection_tokens (
    connection     TEXT PRIMARY KEY NOT NULL,
    -- AES-256-GCM sealed JSON {access_token, refresh_token, instance_url}; see src/sealed.rs.
    sealed         TEXT NOT NULL,
    expires_at     TEXT,
    -- Bumped on every write, so a writer can tell it saw the latest token.
    version        INTEGER NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY NOT NULL,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE TABLE poll_cursors (
    connection  TEXT NOT NULL,
    object      TEXT NOT NULL,
    -- Opaque to the store: the connector's own cursor (a timestamp and a tie-break id).
    cursor      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (connection, object)
);
