"""Pressroom archive: crawl, clean, store. The record everything else is derived from."""
