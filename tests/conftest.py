"""Settings shared by every suite."""

from __future__ import annotations

import pytest
from hypothesis import settings

# Property-based tests run the same examples on every run (a CI failure reproduces locally), never fail on
# a slow example of a noisy machine, and leave no example database in the work tree.
settings.register_profile("zoho", derandomize=True, deadline=None, database=None, max_examples=200)
settings.load_profile("zoho")


def case_id(value: object, width: int = 40) -> str:
    """
    A test id for a parametrized case, from its value's ``repr``: printable ASCII without backslashes.

    pytest escapes other characters in ids, and an id holding an escape is not always found again by its
    node id (mutmut selects tests that way; an id it cannot select counts its mutants as caught).
    """
    text = repr(value).encode("ascii", "backslashreplace").decode("ascii")
    return "".join(c if c.isprintable() and c != "\\" else "~" for c in text)[:width]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse test ids that hold an escape (see :func:`case_id`): give such cases ``ids=case_id``."""
    escaped = [item.nodeid for item in items if "\\" in item.nodeid or not item.nodeid.isascii()]
    if escaped:
        raise pytest.UsageError(
            "test ids with escapes (mutmut cannot always select them again): "
            + ", ".join(escaped[:5])
            + "; give these cases ids=case_id (tests/conftest.py)"
        )
