-- Foundation: companies, people, projects from templates, memberships and activity.
-- Same change, same version number as migrations/postgres/0001_foundation.sql.
-- Ids are UUIDv7 stored as 16-byte blobs; timestamps as RFC 3339 text; dates as YYYY-MM-DD.

CREATE TABLE companies (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at  TEXT NOT NULL
);
CREATE INDEX companies_by_name ON companies (lower(name));

CREATE TABLE users (
    id          BLOB PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('internal', 'customer')),
    -- Always stored lowercased (see domain::Email), so uniqueness is case-insensitive.
    email       TEXT NOT NULL UNIQUE,
    first_name  TEXT,
    last_name   TEXT,
    company_id  BLOB REFERENCES companies (id),
    title       TEXT,
    phone       TEXT,
    timezone    TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE projects (
    id               BLOB PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    template_key     TEXT NOT NULL,
    company_id       BLOB REFERENCES companies (id),
    status           TEXT NOT NULL CHECK (status IN ('draft', 'active', 'completed', 'converted', 'archived')),
    start_date       TEXT NOT NULL,
    goal_date        TEXT,
    welcome_message  TEXT,
    self_service     INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX projects_by_company ON projects (company_id);

CREATE TABLE phases (
    id           BLOB PRIMARY KEY NOT NULL,
    project_id   BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    UNIQUE (project_id, key)
);

CREATE TABLE tasks (
    id            BLOB PRIMARY KEY NOT NULL,
    project_id    BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    phase_id      BLOB NOT NULL REFERENCES phases (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    key           TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT,
    -- The task type and its settings (domain::TaskKind) as JSON.
    kind          TEXT NOT NULL,
    visibility    TEXT NOT NULL CHECK (visibility IN ('internal', 'customer')),
    owner_side    TEXT NOT NULL CHECK (owner_side IN ('staff', 'customer')),
    priority      TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    -- Stored status only; 'blocked' is derived from dependencies and never stored.
    status        TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed')),
    due_date      TEXT,
    due_rule      TEXT,
    default_assignee TEXT,
    assignee_id   BLOB REFERENCES users (id),
    completed_at  TEXT,
    completed_by  BLOB REFERENCES users (id),
    UNIQUE (project_id, key)
);
CREATE INDEX tasks_by_project ON tasks (project_id, position);
CREATE INDEX tasks_by_assignee ON tasks (assignee_id) WHERE assignee_id IS NOT NULL;

CREATE TABLE task_dependencies (
    task_id        BLOB NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    depends_on_id  BLOB NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, depends_on_id)
);

CREATE TABLE memberships (
    project_id    BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id       BLOB NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'staff', 'customer_admin', 'customer_member', 'customer_viewer')),
    contact_role  TEXT,
    status        TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
    created_at    TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

-- Append-only audit trail.
CREATE TABLE activity (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    project_id     BLOB REFERENCES projects (id) ON DELETE CASCADE,
    actor_user_id  BLOB REFERENCES users (id),
    action         TEXT NOT NULL,
    source         TEXT NOT NULL,
    details        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX activity_by_project ON activity (project_id, id);
