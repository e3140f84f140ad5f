"""Alembic migrations of the four stores (catalogue, staff, jobs, ratelimits), one branch each."""
