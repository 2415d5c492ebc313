-- Foundation: companies, people, projects from templates, memberships and activity.
-- Same change, same version number as migrations/sqlite/0001_foundation.sql.

CREATE TABLE companies (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX companies_by_name ON companies (lower(name));

CREATE TABLE users (
    id          UUID PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('internal', 'customer')),
    -- Always stored lowercased (see domain::Email), so uniqueness is case-insensitive.
    email       TEXT NOT NULL UNIQUE,
    first_name  TEXT,
    last_name   TEXT,
    company_id  UUID REFERENCES companies (id),
    title       TEXT,
    phone       TEXT,
    timezone    TEXT,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE projects (
    id               UUID PRIMARY KEY,
    name             TEXT NOT NULL,
    template_key     TEXT NOT NULL,
    company_id       UUID REFERENCES companies (id),
    status           TEXT NOT NULL CHECK (status IN ('draft', 'active', 'completed', 'converted', 'archived')),
    start_date       DATE NOT NULL,
    goal_date        DATE,
    welcome_message  TEXT,
    self_service     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX projects_by_company ON projects (company_id);

CREATE TABLE phases (
    id           UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    key          TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT,
    UNIQUE (project_id, key)
);

CREATE TABLE tasks (
    id            UUID PRIMARY KEY,
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    phase_id      UUID NOT NULL REFERENCES phases (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    key           TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT,
    -- The task type and its settings (domain::TaskKind).
    kind          JSONB NOT NULL,
    visibility    TEXT NOT NULL CHECK (visibility IN ('internal', 'customer')),
    owner_side    TEXT NOT NULL CHECK (owner_side IN ('staff', 'customer')),
    priority      TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    -- Stored status only; 'blocked' is derived from dependencies and never stored.
    status        TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed')),
    due_date      DATE,
    due_rule      TEXT,
    default_assignee TEXT,
    assignee_id   UUID REFERENCES users (id),
    completed_at  TIMESTAMPTZ,
    completed_by  UUID REFERENCES users (id),
    UNIQUE (project_id, key)
);
CREATE INDEX tasks_by_project ON tasks (project_id, position);
CREATE INDEX tasks_by_assignee ON tasks (assignee_id) WHERE assignee_id IS NOT NULL;

CREATE TABLE task_dependencies (
    task_id        UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    depends_on_id  UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, depends_on_id)
);

CREATE TABLE memberships (
    project_id    UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id       UUID NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'staff', 'customer_admin', 'customer_member', 'customer_viewer')),
    contact_role  TEXT,
    status        TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

-- Append-only audit trail.
CREATE TABLE activity (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    project_id     UUID REFERENCES projects (id) ON DELETE CASCADE,
    actor_user_id  UUID REFERENCES users (id),
    action         TEXT NOT NULL,
    source         TEXT NOT NULL,
    details        JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX activity_by_project ON activity (project_id, id);
