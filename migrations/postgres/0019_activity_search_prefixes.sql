-- Same version number as migrations/sqlite/0019_activity_search_prefixes.sql, which
-- gives SQLite's full-text index prefix indexes and a vocabulary so that a prefix
-- search stops at its page. PostgreSQL needs nothing: its GIN index answers a prefix
-- (`word:*`) as cheaply as a whole word, and the planner walks the primary key
-- backwards for common words (0016).
SELECT 1;
