-- The staff console (#13): the activity trail filtered by type and searched on the
-- server, and the document review inbox. Same change, same version number as
-- migrations/postgres/0016_activity_search.sql.

-- An entry's type is the part of its action before the dot (`task` of
-- `task.completed`): derived, so no write path can get it wrong. Virtual, as SQLite's
-- ALTER TABLE allows; its indexes hold it.
ALTER TABLE activity ADD COLUMN kind TEXT GENERATED ALWAYS AS (
    CASE WHEN instr(action, '.') > 0 THEN substr(action, 1, instr(action, '.') - 1) ELSE action END
) VIRTUAL;
-- The trail is read newest first by keyset (`id < before`), per type, per project.
CREATE INDEX activity_by_kind ON activity (kind, id);
CREATE INDEX activity_by_project_kind ON activity (project_id, kind, id);

-- What an entry is found by: its action's words, its source, the actor's name and
-- email, the title of the task it names, and the text values of its details (a file's
-- name, a rejection's note), ids left out. One definition, used by the trigger below
-- for every new entry and once here for the existing ones.
CREATE VIEW activity_search_documents AS
SELECT
    a.id,
    a.kind,
    coalesce(lower(hex(a.project_id)), '') AS project,
    replace(a.action, '.', ' ') || ' ' || a.source
        || ' ' || coalesce((SELECT coalesce(u.first_name, '') || ' ' || coalesce(u.last_name, '') || ' ' || u.email
                            FROM users u WHERE u.id = a.actor_user_id), '')
        || ' ' || coalesce((SELECT t.title FROM tasks t WHERE t.project_id = a.project_id AND t.key = a.details ->> 'task'), '')
        || ' ' || coalesce((SELECT group_concat(j.value, ' ') FROM json_tree(a.details) j
                            WHERE j.type = 'text'
                            AND NOT (length(j.value) = 36 AND j.value GLOB '????????-????-????-????-????????????')), '')
        AS body
FROM activity a;

-- The full-text index: contentless (the text is in the tables it came from), one row
-- per entry under the entry's id, so a search walks it by id, newest first, and stops
-- at a page. The type and the project are columns of it too, so a filtered search is
-- answered by the index alone.
CREATE VIRTUAL TABLE activity_search USING fts5(
    body, kind, project,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER activity_search_insert AFTER INSERT ON activity
BEGIN
    INSERT INTO activity_search (rowid, body, kind, project)
    SELECT id, body, kind, project FROM activity_search_documents WHERE id = NEW.id;
END;
CREATE TRIGGER activity_search_delete AFTER DELETE ON activity
BEGIN
    DELETE FROM activity_search WHERE rowid = OLD.id;
END;

INSERT INTO activity_search (rowid, body, kind, project)
SELECT id, body, kind, project FROM activity_search_documents;

-- The review inbox, across projects and per project: by review status, newest upload
-- first (task_files ids are UUIDv7, so their order is the upload order).
CREATE INDEX task_files_by_review ON task_files (review_status, id);
CREATE INDEX task_files_by_project_review ON task_files (project_id, review_status, id);
