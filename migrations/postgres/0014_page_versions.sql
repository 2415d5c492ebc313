-- A project's page version: every change that a portal page of the project shows
-- bumps it, in the same transaction as the change. A process may then keep the
-- project's page model (project, phases, tasks, dependencies, member names) in memory
-- and check it with the one small query that also checks the visitor's membership
-- (web/portal/page_cache.rs). Triggers rather than application code, so that no
-- write path, present or future, can forget to bump it. Statement-level triggers with
-- transition tables, so a bulk insert of 50 tasks bumps its project once.
ALTER TABLE projects ADD COLUMN page_version BIGINT NOT NULL DEFAULT 0;

-- The project itself: any column but the version.
CREATE FUNCTION projects_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.page_version = OLD.page_version THEN
        NEW.page_version := OLD.page_version + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER projects_bump_page BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION projects_bump_page();

-- The company name is shown on its projects.
CREATE FUNCTION companies_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE company_id IN (SELECT id FROM changed_rows);
    RETURN NULL;
END $$;
CREATE TRIGGER companies_bump_page AFTER UPDATE ON companies
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION companies_bump_page();

-- Rows that carry their project (phases, tasks, memberships).
CREATE FUNCTION project_rows_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id IN (SELECT project_id FROM changed_rows);
    RETURN NULL;
END $$;

CREATE TRIGGER phases_bump_page_insert AFTER INSERT ON phases
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();
CREATE TRIGGER phases_bump_page_update AFTER UPDATE ON phases
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();
CREATE TRIGGER phases_bump_page_delete AFTER DELETE ON phases
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();

CREATE TRIGGER tasks_bump_page_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();
CREATE TRIGGER tasks_bump_page_update AFTER UPDATE ON tasks
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();
CREATE TRIGGER tasks_bump_page_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();

-- Members are shown by name (assignees, the team).
CREATE TRIGGER memberships_bump_page_insert AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();
CREATE TRIGGER memberships_bump_page_update AFTER UPDATE ON memberships
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();
CREATE TRIGGER memberships_bump_page_delete AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION project_rows_bump_page();

-- A dependency makes a task blocked or not. (When a project is deleted its tasks may
-- be gone before their dependencies; then there is no page left to bump.)
CREATE FUNCTION task_dependencies_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id IN (SELECT t.project_id FROM tasks t JOIN changed_rows d ON d.task_id = t.id);
    RETURN NULL;
END $$;
CREATE TRIGGER task_dependencies_bump_page_insert AFTER INSERT ON task_dependencies
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_dependencies_bump_page();
CREATE TRIGGER task_dependencies_bump_page_update AFTER UPDATE ON task_dependencies
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_dependencies_bump_page();
CREATE TRIGGER task_dependencies_bump_page_delete AFTER DELETE ON task_dependencies
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_dependencies_bump_page();

-- A person's name, address or kind changes how every project they belong to shows them.
CREATE FUNCTION users_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id IN (SELECT m.project_id FROM memberships m JOIN changed_rows u ON u.id = m.user_id);
    RETURN NULL;
END $$;
CREATE TRIGGER users_bump_page AFTER UPDATE ON users
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION users_bump_page();
