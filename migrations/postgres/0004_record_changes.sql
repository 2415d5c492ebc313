-- The one stream of record changes, from webhooks and polls alike. A change is
-- identified by its record, modification stamp and content fingerprint, so the same
-- edit seen by a webhook and by a poll is stored, and processed, once, while a contact
-- role change that left the record's stamp alone still counts.
CREATE TABLE record_changes (
    id            UUID PRIMARY KEY,
    connection    TEXT NOT NULL,
    object        TEXT NOT NULL CHECK (object IN ('deal', 'company', 'contact')),
    external_id   TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    modified_at   TIMESTAMPTZ NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('webhook', 'poll', 'backfill')),
    change        JSONB NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    processed_at  TIMESTAMPTZ,
    UNIQUE (connection, object, external_id, modified_at, fingerprint)
);
CREATE INDEX record_changes_pending ON record_changes (id) WHERE status = 'pending';
