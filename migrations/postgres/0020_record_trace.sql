-- The record trace (`handoff trace`, the console's admin Trace page): what became of
-- each change of a CRM record.

-- Each workflow's decision on each change the engine handled: it fired, it kept the
-- record's existing project in step, it skipped the change (and why, with the value it
-- saw), or its plan failed; and what applying it did (members added, changed and
-- removed, invitations sent or waiting). Only workflows triggered on the change's
-- connection and object decide. A change handled again after a crash keeps the later
-- decision. Deleted with its change when the change passes the trace retention
-- (`sync.trace_retention`).
CREATE TABLE workflow_decisions (
    change_id   UUID NOT NULL REFERENCES record_changes (id) ON DELETE CASCADE,
    workflow    TEXT NOT NULL,
    verdict     TEXT NOT NULL CHECK (verdict IN ('fires', 'keeps', 'skips', 'fails')),
    reason      TEXT,
    project_id  UUID,
    outcome     JSONB,
    decided_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (change_id, workflow)
);

-- A writeback row names the CRM record it writes to, so the trace finds a record's
-- writebacks by index (the payload has it too, but cannot be searched by index).
ALTER TABLE outbox ADD COLUMN record TEXT;
UPDATE outbox SET record = payload ->> 'record_id' WHERE kind = 'writeback';
CREATE INDEX outbox_by_record ON outbox (connection, record) WHERE record IS NOT NULL;
