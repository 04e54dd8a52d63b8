"""
Pytest fixtures for the Zoho sandbox.

Enable with ``pytest_plugins = ["airflow_provider_zoho.sandbox.pytest_plugin"]`` in a top-level conftest.

- ``zoho_sandbox``: a fresh sandbox per test, stopped afterwards. Options come from the marker
  ``@pytest.mark.zoho_sandbox(seed=3, mint_limit=2, ...)`` (any :class:`ZohoSandbox` keyword argument).
- ``zoho_sandbox_session``: one sandbox for the session; tests call ``.reset()`` as they need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_zoho.sandbox.server import ZohoSandbox

if TYPE_CHECKING:
    from collections.abc import Iterator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "zoho_sandbox(**options): ZohoSandbox keyword arguments for the zoho_sandbox fixture"
    )


@pytest.fixture
def zoho_sandbox(request: pytest.FixtureRequest) -> Iterator[ZohoSandbox]:
    """A running sandbox of its own for one test."""
    marker = request.node.get_closest_marker("zoho_sandbox")
    options = dict(marker.kwargs) if marker is not None else {}
    with ZohoSandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def zoho_sandbox_session() -> Iterator[ZohoSandbox]:
    """One running sandbox shared by the whole session (call ``.reset()`` for a clean slate)."""
    with ZohoSandbox() as sandbox:
        yield sandbox
