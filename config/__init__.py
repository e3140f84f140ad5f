"""Pressroom's shipped defaults: installed as the package `archive.defaults` (see pyproject.toml).

Read through importlib.resources (archive/settings.py), so that a checkout, an editable install
and a wheel all find the same files.
"""
