"""Pressroom web app and command line: reads the index, never writes it."""
