"""Pressroom indexer: derived from the archive. Callers use indexer.interface; Whoosh sits behind it."""
