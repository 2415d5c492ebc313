-- The console's task list shows each task's assignee by name, and staff are given
-- tasks of projects they are not members of; so renaming someone must also bump the
-- projects whose tasks they are assigned, not only those they belong to (0014). The
-- console keeps rendered task lists by page version (web/console/task_list.rs).
CREATE OR REPLACE FUNCTION users_bump_page() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projects SET page_version = page_version + 1
    WHERE id IN (SELECT project_id FROM memberships WHERE user_id = NEW.id)
       OR id IN (SELECT project_id FROM tasks WHERE assignee_id = NEW.id);
    RETURN NULL;
END $$;
