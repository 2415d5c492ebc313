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

-- The company name is shown on its projects. Row-level with a WHEN, so an update
-- that leaves the name as it was (an upsert from a CRM sync) bumps nothing.
CREATE FUNCTION companies_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET page_version = page_version + 1 WHERE company_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER companies_bump_page AFTER UPDATE ON companies
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION companies_bump_page();

-- Rows that carry their project (phases, tasks, memberships). One UPDATE by primary key
-- per project touched (nearly always one): a single `UPDATE … WHERE id IN (SELECT …
-- FROM changed_rows)` lets the planner, which cannot size a transition table, scan
-- every project, and creating projects got slower as their number grew.
CREATE FUNCTION project_rows_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched UUID;
BEGIN
    FOR touched IN SELECT DISTINCT project_id FROM changed_rows LOOP
        UPDATE projects SET page_version = page_version + 1 WHERE id = touched;
    END LOOP;
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
DECLARE
    touched UUID;
BEGIN
    -- The task's project by primary key, row by row (see project_rows_bump_page).
    FOR touched IN SELECT DISTINCT (SELECT t.project_id FROM tasks t WHERE t.id = d.task_id) FROM changed_rows d LOOP
        UPDATE projects SET page_version = page_version + 1 WHERE id = touched;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER task_dependencies_bump_page_insert AFTER INSERT ON task_dependencies
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_dependencies_bump_page();
CREATE TRIGGER task_dependencies_bump_page_update AFTER UPDATE ON task_dependencies
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_dependencies_bump_page();
CREATE TRIGGER task_dependencies_bump_page_delete AFTER DELETE ON task_dependencies
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_dependencies_bump_page();

-- A person's name, address or kind changes how every project they belong to shows
-- them. Only a real change: contacts are upserted on every CRM sync, and one person
-- may belong to many projects.
CREATE FUNCTION users_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id IN (SELECT project_id FROM memberships WHERE user_id = NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER users_bump_page AFTER UPDATE ON users
    FOR EACH ROW WHEN ((OLD.kind, OLD.email, OLD.first_name, OLD.last_name)
                       IS DISTINCT FROM (NEW.kind, NEW.email, NEW.first_name, NEW.last_name))
    EXECUTE FUNCTION users_bump_page();
