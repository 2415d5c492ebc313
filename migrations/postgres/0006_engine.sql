-- The workflow engine's bookkeeping.

-- CRM records linked to the hub's: an account/company to a company, a contact to a user.
-- A CRM record is linked once, so renames in the CRM do not create duplicates.
CREATE TABLE crm_links (
    connection   TEXT NOT NULL,
    object       TEXT NOT NULL CHECK (object IN ('company', 'contact')),
    external_id  TEXT NOT NULL,
    local_id     UUID NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection, object, external_id)
);

-- Exactly one project per (workflow, CRM record), however often the change arrives and
-- however many handoff processes apply it: the primary key is the guarantee.
CREATE TABLE project_sources (
    workflow     TEXT NOT NULL,
    connection   TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workflow, connection, external_id)
);
CREATE INDEX project_sources_by_project ON project_sources (project_id);

-- Invitation links into the portal (#6). Only the SHA-256 of the token is stored; the
-- token itself travels once, sealed, in the invitation's outbox row.
CREATE TABLE invitations (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id),
    project_id  UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    sent_at     TIMESTAMPTZ,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX invitations_by_user ON invitations (user_id, project_id);

-- Side effects (emails, CRM writebacks), written in the transaction that causes them and
-- delivered by workers. The idempotency key makes a repeated cause a no-op.
CREATE TABLE outbox (
    id               UUID PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('email', 'writeback')),
    idempotency_key  TEXT NOT NULL UNIQUE,
    connection       TEXT,
    payload          JSONB NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    done_at          TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

-- What to do about inviting a member: invite now (once the project is Active), only when
-- the project becomes Active, or never (added silently). Drafts send nothing.
ALTER TABLE memberships ADD COLUMN invite TEXT NOT NULL DEFAULT 'silently' CHECK (invite IN ('now', 'when_active', 'silently'));
