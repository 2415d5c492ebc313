-- Searching the activity trail by prefix stays fast however common the word (#13).
-- Same change, same version number as migrations/postgres/0019_activity_search_prefixes.sql.
--
-- FTS5 answers `"word"*` by merging the whole doclist of every term starting with
-- the word before it returns the first row: on a million entries a common word
-- ("pdf") took tens of milliseconds where the whole term takes a tenth of one. Two
-- changes make every prefix search walk lazily, newest first, and stop at the page:
--
-- * prefix indexes of 1, 2 and 3 characters: a word that short is looked up in its
--   own index as if it were a term (such short prefixes have too many completions to
--   list, below);
-- * the vocabulary `activity_search_terms`: for a longer word the store lists the
--   terms it starts (a seek each, in the 'instance' table, which unlike 'row' counts
--   nothing) and searches for any of them as whole terms (store/activity_trail.rs).
--
-- The index is rebuilt from the same documents (0016's view) under the same triggers.
DROP TRIGGER activity_search_insert;
DROP TRIGGER activity_search_delete;
DROP TABLE activity_search;

CREATE VIRTUAL TABLE activity_search USING fts5(
    body, kind, project,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
CREATE VIRTUAL TABLE activity_search_terms USING fts5vocab(activity_search, 'instance');

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
