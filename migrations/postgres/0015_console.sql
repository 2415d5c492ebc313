-- The staff console (#13): staff roles, console sessions, emailed sign-in links for
-- staff, OAuth requests in flight, internal notes and document review.
-- Same change, same version number as migrations/sqlite/0015_console.sql.

-- Staff (internal users) are admins or staff; customers have no staff role. A revoked
-- staff account signs in no more (its console sessions end with the revocation).
ALTER TABLE users ADD COLUMN staff_role TEXT CHECK (staff_role IN ('admin', 'staff'));
ALTER TABLE users ADD COLUMN staff_revoked_at TIMESTAMPTZ;
UPDATE users SET staff_role = 'staff' WHERE kind = 'internal';

-- Console sessions, apart from customers' portal sessions: a customer's cookie never
-- opens the console. Only the SHA-256 of the cookie's random id is stored.
CREATE TABLE console_sessions (
    id_hash         TEXT PRIMARY KEY,
    user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- How the person proved who they are: 'salesforce:<connection>', 'hubspot:<connection>', 'email'.
    signed_in_with  TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

-- Sign-in links emailed to staff (the fallback to signing in with the CRM): single
-- use, short-lived, stored as a hash. The token itself is sealed into the outbox row.
CREATE TABLE console_links (
    id          UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

-- OAuth authorization requests between the redirect to the CRM and its callback: the
-- state (as a hash) is single use and expires; the PKCE verifier is sealed.
CREATE TABLE oauth_requests (
    state_hash       TEXT PRIMARY KEY,
    purpose          TEXT NOT NULL CHECK (purpose IN ('console_sign_in', 'connect')),
    connection       TEXT NOT NULL,
    sealed_verifier  TEXT,
    -- Where to go after signing in (a local path).
    next             TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_requests_by_expiry ON oauth_requests (expires_at);

-- Internal notes on tasks: staff only, never shown in the portal.
ALTER TABLE task_comments ADD COLUMN internal BOOLEAN NOT NULL DEFAULT FALSE;

-- Who reviewed a document, and when.
ALTER TABLE task_files ADD COLUMN reviewed_by UUID REFERENCES users (id);
ALTER TABLE task_files ADD COLUMN reviewed_at TIMESTAMPTZ;
