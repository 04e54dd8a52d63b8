"""Settings shared by every suite."""

from __future__ import annotations

from hypothesis import settings

# Property-based tests run the same examples on every run (a CI failure reproduces locally), never fail on
# a slow example of a noisy machine, and leave no example database in the work tree.
settings.register_profile("zoho", derandomize=True, deadline=None, database=None, max_examples=200)
settings.load_profile("zoho")
