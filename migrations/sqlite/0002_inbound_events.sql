-- Inbound CRM events (webhooks, outbound messages, poll results), stored before they
-- are acknowledged. The unique key makes a redelivered event a no-op; rows are kept at
-- least 72 hours (see store::inbound::RETENTION) so redeliveries within that window
-- are recognised.
CREATE TABLE inbound_events (
    id            BLOB PRIMARY KEY NOT NULL,
    connection    TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('webhook', 'poll')),
    dedupe_key    TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    occurred_at   TEXT,
    payload       TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    processed_at  TEXT,
    UNIQUE (connection, dedupe_key)
);
CREATE INDEX inbound_events_pending ON inbound_events (id) WHERE status = 'pending';
CREATE INDEX inbound_events_by_age ON inbound_events (received_at);
