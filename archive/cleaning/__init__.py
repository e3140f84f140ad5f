"""Cleaning: turn a captured page into a release (title, dates, language, body, countries,
themes, projects, contacts) with pure functions, and re-derive releases from the archive."""
