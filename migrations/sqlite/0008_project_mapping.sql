-- Project mapping (#5): owner and team from CRM user-lookup fields, custom fields.

-- CRM users are linked to staff users like contacts to customer users. SQLite cannot
-- change a CHECK constraint in place, so the table is rebuilt (nothing references it).
CREATE TABLE crm_links_new (
    connection   TEXT NOT NULL,
    object       TEXT NOT NULL CHECK (object IN ('company', 'contact', 'user')),
    external_id  TEXT NOT NULL,
    local_id     BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (connection, object, external_id)
);
INSERT INTO crm_links_new (connection, object, external_id, local_id, created_at)
    SELECT connection, object, external_id, local_id, created_at FROM crm_links;
DROP TABLE crm_links;
ALTER TABLE crm_links_new RENAME TO crm_links;

-- The CRM user each of a project's user-lookup fields names, as last seen, and the staff
-- user it was matched to (NULL while no staff user matches: the project then says so in
-- its activity, once per CRM user, and a staff account made later is matched to it).
CREATE TABLE project_crm_staff (
    project_id   BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    field        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    connection   TEXT NOT NULL,
    crm_user_id  TEXT NOT NULL,
    email        TEXT,
    name         TEXT,
    user_id      BLOB REFERENCES users (id),
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (project_id, field)
);
CREATE INDEX project_crm_staff_unmatched ON project_crm_staff (email) WHERE user_id IS NULL;

-- Project custom fields mapped from CRM fields (the CRM owns them), values as JSON.
CREATE TABLE project_custom_fields (
    project_id  BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (project_id, name)
);
