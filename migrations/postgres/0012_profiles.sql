-- Portal profiles (#6): each person's picture. The other profile fields (names, title,
-- phone, time zone) are columns of users since 0001.
-- Same change, same version number as migrations/sqlite/0012_profiles.sql.

-- Kept in the database, not on disk: outside any web root, in every backup, and shared
-- by every handoff process. Size is limited before anything is stored
-- (web/portal/profile.rs); content_type is what the bytes were sniffed to be, never
-- what the browser claimed.
CREATE TABLE user_pictures (
    user_id       UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    content_type  TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
    bytes         BYTEA NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
