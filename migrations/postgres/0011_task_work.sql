-- Task work in the customer portal (#6): what customers hand in on a task (form answers,
-- an answer to a question, an approval decision), the files they upload, and comments.
-- Same change, same version number as migrations/sqlite/0011_task_work.sql.

-- One row per submission, oldest first: a form's answers, a question's answer, or an
-- approval decision. A form or question submission completes its task in the same
-- transaction; "changes requested" leaves the approval task open.
CREATE TABLE task_submissions (
    id            UUID PRIMARY KEY,
    task_id       UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('form', 'question', 'approval')),
    -- Form: {"field key": value}; question: {"answer": "…"}; approval: {}.
    answers       JSONB NOT NULL,
    decision      TEXT CHECK (decision IN ('approved', 'changes_requested')),
    note          TEXT,
    submitted_by  UUID REFERENCES users (id),
    submitted_at  TIMESTAMPTZ NOT NULL,
    CHECK ((kind = 'approval') = (decision IS NOT NULL))
);
CREATE INDEX task_submissions_by_task ON task_submissions (task_id, submitted_at);

-- Uploaded files. The bytes live outside the web root (config portal.upload_dir) under
-- `storage_name`, a random name; the name the person gave is kept, sanitised, only to
-- offer it back on download. `content_type` is the type found by reading the content.
CREATE TABLE task_files (
    id             UUID PRIMARY KEY,
    task_id        UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id     UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    storage_name   TEXT NOT NULL UNIQUE,
    original_name  TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL CHECK (size_bytes > 0),
    sha256         TEXT NOT NULL,
    uploaded_by    UUID REFERENCES users (id),
    uploaded_at    TIMESTAMPTZ NOT NULL,
    -- For the staff console's document review (pending / approved / rejected, a note).
    review_status  TEXT NOT NULL DEFAULT 'pending' CHECK (review_status IN ('pending', 'approved', 'rejected')),
    review_note    TEXT
);
CREATE INDEX task_files_by_task ON task_files (task_id, uploaded_at);

CREATE TABLE task_comments (
    id          UUID PRIMARY KEY,
    task_id     UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    project_id  UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    author_id   UUID REFERENCES users (id),
    body        TEXT NOT NULL CHECK (length(trim(body)) > 0),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX task_comments_by_task ON task_comments (task_id, created_at);
