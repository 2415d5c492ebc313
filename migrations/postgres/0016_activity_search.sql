-- The staff console (#13): the activity trail filtered by type and searched on the
-- server, and the document review inbox. Same change, same version number as
-- migrations/sqlite/0016_activity_search.sql.

-- An entry's type is the part of its action before the dot (`task` of
-- `task.completed`): derived, so no write path can get it wrong.
ALTER TABLE activity ADD COLUMN kind TEXT GENERATED ALWAYS AS (split_part(action, '.', 1)) STORED;
-- The trail is read newest first by keyset (`id < before`), per type, per project.
CREATE INDEX activity_by_kind ON activity (kind, id);
CREATE INDEX activity_by_project_kind ON activity (project_id, kind, id);

-- What an entry is found by: its action's words, its source, the actor's name and
-- email, the title of the task it names, and the text values of its details (a file's
-- name, a rejection's note), ids left out. Punctuation separates words, as SQLite's
-- tokenizer has it (`contract.pdf` is found by `contract`); no stemming ('simple').
CREATE FUNCTION activity_search_document(actor UUID, project UUID, action TEXT, source TEXT, details JSONB)
RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT to_tsvector('simple', regexp_replace(concat_ws(' ',
        replace(action, '.', ' '),
        source,
        (SELECT concat_ws(' ', u.first_name, u.last_name, u.email) FROM users u WHERE u.id = actor),
        (SELECT t.title FROM tasks t WHERE t.project_id = project AND t.key = details ->> 'task'),
        (SELECT string_agg(v #>> '{}', ' ') FROM jsonb_path_query(details, 'strict $.**') AS v
         WHERE jsonb_typeof(v) = 'string'
         AND (v #>> '{}') !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
    ), '[^[:alnum:]]+', ' ', 'g'))
$$;

ALTER TABLE activity ADD COLUMN search tsvector;
UPDATE activity SET search = activity_search_document(actor_user_id, project_id, action, source, details);
ALTER TABLE activity ALTER COLUMN search SET NOT NULL;

-- Every new entry gets its document in its own INSERT, whichever code writes it.
CREATE FUNCTION activity_fill_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := activity_search_document(NEW.actor_user_id, NEW.project_id, NEW.action, NEW.source, NEW.details);
    RETURN NEW;
END
$$;
CREATE TRIGGER activity_fill_search BEFORE INSERT ON activity
    FOR EACH ROW EXECUTE FUNCTION activity_fill_search();

-- A search is `search @@ query` newest first: the planner walks the primary key
-- backwards when the words are common and reads the GIN index when they are rare.
CREATE INDEX activity_search_words ON activity USING gin (search);

-- The review inbox, across projects and per project: by review status, newest upload
-- first (task_files ids are UUIDv7, so their order is the upload order).
CREATE INDEX task_files_by_review ON task_files (review_status, id);
CREATE INDEX task_files_by_project_review ON task_files (project_id, review_status, id);
