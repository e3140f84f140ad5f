"""Pressroom indexer: schema, analysis, build, search. Derived from the archive."""
