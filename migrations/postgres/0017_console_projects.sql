-- The console's project list (#13) pages through projects by name, case-insensitively,
-- with a keyset cursor (lower(name), id): this index serves that order and the
-- "after the cursor" range without reading the projects before it.
-- Same change, same version number as migrations/sqlite/0017_console_projects.sql.
CREATE INDEX projects_by_sort_name ON projects (lower(name), id);
