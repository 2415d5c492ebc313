-- The customer portal (#6): sign-in sessions and requests for fresh sign-in links.
-- Same change, same version number as migrations/sqlite/0009_portal.sql.

-- Server-side sessions. The cookie carries a 256-bit random id; only its SHA-256 (hex)
-- is stored, so a copy of the database signs no one in. The CSRF token of a session is
-- derived from the id (see web/portal/csrf.rs) and is not stored either.
CREATE TABLE portal_sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TIMESTAMPTZ NOT NULL,
    -- Refreshed at most once a minute, for the idle timeout.
    last_seen_at  TIMESTAMPTZ NOT NULL,
    -- The absolute timeout, fixed at sign-in.
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX portal_sessions_by_user ON portal_sessions (user_id);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);

-- "Send me a fresh link" requests, for the per-address rate limit. The address is kept
-- only as a SHA-256 of its lowercase form: people type addresses we do not know.
CREATE TABLE portal_link_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email_hash    TEXT NOT NULL,
    requested_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX portal_link_requests_by_email ON portal_link_requests (email_hash, requested_at);
