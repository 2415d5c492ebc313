-- A project's page version: every change that a portal page of the project shows
-- bumps it, in the same transaction as the change. A process may then keep the
-- project's page model (project, phases, tasks, dependencies, member names) in memory
-- and check it with the one small query that also checks the visitor's membership
-- (web/portal/page_cache.rs). Triggers rather than application code, so that no
-- write path, present or future, can forget to bump it.
ALTER TABLE projects ADD COLUMN page_version INTEGER NOT NULL DEFAULT 0;

-- The project itself: any column but the version. (The inner UPDATE changes the
-- version, so it does not fire this trigger again.)
CREATE TRIGGER projects_bump_page AFTER UPDATE ON projects
WHEN NEW.page_version = OLD.page_version
BEGIN
    UPDATE projects SET page_version = OLD.page_version + 1 WHERE id = NEW.id;
END;

-- The company name is shown on its projects (only a real change: an upsert from a CRM
-- sync that keeps the name bumps nothing).
CREATE TRIGGER companies_bump_page AFTER UPDATE OF name ON companies
WHEN OLD.name IS NOT NEW.name
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE company_id = NEW.id;
END;

CREATE TRIGGER phases_bump_page_insert AFTER INSERT ON phases
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id = NEW.project_id;
END;
CREATE TRIGGER phases_bump_page_update AFTER UPDATE ON phases
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id IN (OLD.project_id, NEW.project_id);
END;
CREATE TRIGGER phases_bump_page_delete AFTER DELETE ON phases
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id = OLD.project_id;
END;

CREATE TRIGGER tasks_bump_page_insert AFTER INSERT ON tasks
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id = NEW.project_id;
END;
CREATE TRIGGER tasks_bump_page_update AFTER UPDATE ON tasks
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id IN (OLD.project_id, NEW.project_id);
END;
CREATE TRIGGER tasks_bump_page_delete AFTER DELETE ON tasks
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id = OLD.project_id;
END;

-- A dependency makes a task blocked or not.
CREATE TRIGGER task_dependencies_bump_page_insert AFTER INSERT ON task_dependencies
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id = (SELECT project_id FROM tasks WHERE id = NEW.task_id);
END;
CREATE TRIGGER task_dependencies_bump_page_update AFTER UPDATE ON task_dependencies
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id IN (SELECT project_id FROM tasks WHERE id IN (OLD.task_id, NEW.task_id));
END;
CREATE TRIGGER task_dependencies_bump_page_delete AFTER DELETE ON task_dependencies
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id = (SELECT project_id FROM tasks WHERE id = OLD.task_id);
END;

-- Members are shown by name (assignees, the team).
CREATE TRIGGER memberships_bump_page_insert AFTER INSERT ON memberships
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id = NEW.project_id;
END;
CREATE TRIGGER memberships_bump_page_update AFTER UPDATE ON memberships
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id IN (OLD.project_id, NEW.project_id);
END;
CREATE TRIGGER memberships_bump_page_delete AFTER DELETE ON memberships
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE id = OLD.project_id;
END;

-- A person's name, address or kind changes how every project they belong to shows
-- them. Only a real change: contacts are upserted on every CRM sync, and one person
-- may belong to many projects.
CREATE TRIGGER users_bump_page AFTER UPDATE OF kind, email, first_name, last_name ON users
WHEN OLD.kind IS NOT NEW.kind OR OLD.email IS NOT NEW.email
    OR OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id IN (SELECT project_id FROM memberships WHERE user_id = NEW.id);
END;
