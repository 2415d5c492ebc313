-- Workflows that `serve` did not run because they did not fit their CRM's fields, and
-- since when. Record changes handled meanwhile went past them; when the workflow fits
-- again, the changes of its connection and object received since then are handled
-- again (applying a change twice is harmless: one project per workflow and record).
CREATE TABLE workflow_outages (
    workflow    TEXT PRIMARY KEY,
    connection  TEXT NOT NULL,
    object      TEXT NOT NULL,
    since       TEXT NOT NULL,
    reason      TEXT NOT NULL
);
