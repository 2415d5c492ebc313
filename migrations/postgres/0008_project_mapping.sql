-- Project mapping (#5): owner and team from CRM user-lookup fields, custom fields.

-- CRM users are linked to staff users like contacts to customer users.
ALTER TABLE crm_links DROP CONSTRAINT crm_links_object_check;
ALTER TABLE crm_links ADD CONSTRAINT crm_links_object_check CHECK (object IN ('company', 'contact', 'user'));

-- The CRM user each of a project's user-lookup fields names, as last seen, and the staff
-- user it was matched to (NULL while no staff user matches: the project then says so in
-- its activity, once per CRM user, and a staff account made later is matched to it).
CREATE TABLE project_crm_staff (
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    field        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    connection   TEXT NOT NULL,
    crm_user_id  TEXT NOT NULL,
    email        TEXT,
    name         TEXT,
    user_id      UUID REFERENCES users (id),
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, field)
);
CREATE INDEX project_crm_staff_unmatched ON project_crm_staff (email) WHERE user_id IS NULL;

-- Project custom fields mapped from CRM fields (the CRM owns them), values as JSON.
CREATE TABLE project_custom_fields (
    project_id  UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       JSONB NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, name)
);
