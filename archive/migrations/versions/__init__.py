"""The revisions; Alembic reads these files by path (archive.migrate runs them)."""
