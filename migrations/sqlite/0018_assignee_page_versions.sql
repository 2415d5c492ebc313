-- The console's task list shows each task's assignee by name, and staff are given
-- tasks of projects they are not members of; so renaming someone must also bump the
-- projects whose tasks they are assigned, not only those they belong to (0014). The
-- console keeps rendered task lists by page version (web/console/task_list.rs).
DROP TRIGGER users_bump_page;
CREATE TRIGGER users_bump_page AFTER UPDATE OF kind, email, first_name, last_name ON users
WHEN OLD.kind IS NOT NEW.kind OR OLD.email IS NOT NEW.email
    OR OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id IN (SELECT project_id FROM memberships WHERE user_id = NEW.id)
       OR id IN (SELECT project_id FROM tasks WHERE assignee_id = NEW.id);
END;
