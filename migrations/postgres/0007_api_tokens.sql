-- Tokens for the JSON API (/api/v1), made by `handoff api-token create`. Only the
-- SHA-256 of a token is stored (hex, looked up through the unique index), with its first
-- characters (`hnd_ab12`) so operators can tell tokens apart; the token is shown once.
-- Names are unique among all tokens, revoked ones included: the activity trail records
-- what a token did as `api:<name>`, which must name one token for ever.
CREATE TABLE api_tokens (
    id            UUID PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
