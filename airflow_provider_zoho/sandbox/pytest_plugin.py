"""
Pytest fixtures for the Zoho sandbox.

Enable with ``pytest_plugins = ["airflow_provider_zoho.sandbox.pytest_plugin"]`` in a top-level conftest.

- ``zoho_sandbox``: a fresh sandbox per test, stopped afterwards. Options come from the marker
  ``@pytest.mark.zoho_sandbox(seed=3, mint_limit=2, ...)`` (any :class:`ZohoSandbox` keyword argument).
- ``zoho_sandbox_session``: one sandbox for the session; tests call ``.reset()`` as they need.

Both answer at most :data:`TEST_MAX_REQUESTS` Zoho requests per test (the request budget), then HTTP 400,
so a client that pages or retries without end fails the test in seconds instead of hanging it. A test that
needs more says so: ``@pytest.mark.zoho_sandbox(max_requests=None)`` or ``sandbox.set_max_requests(n)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_zoho.sandbox.server import ZohoSandbox

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Zoho requests a sandbox fixture answers per test: about four times what the largest test of this project
#: makes (120), few enough that a runaway paging loop ends within seconds.
TEST_MAX_REQUESTS = 500


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "zoho_sandbox(**options): ZohoSandbox keyword arguments for the zoho_sandbox fixture"
    )


@pytest.fixture
def zoho_sandbox(request: pytest.FixtureRequest) -> Iterator[ZohoSandbox]:
    """A running sandbox of its own for one test."""
    marker = request.node.get_closest_marker("zoho_sandbox")
    options = {"max_requests": TEST_MAX_REQUESTS, **(marker.kwargs if marker is not None else {})}
    with ZohoSandbox(**options) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def zoho_sandbox_session() -> Iterator[ZohoSandbox]:
    """One running sandbox shared by the whole session (call ``.reset()`` for a clean slate)."""
    with ZohoSandbox(max_requests=TEST_MAX_REQUESTS) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _zoho_sandbox_session_budget(request: pytest.FixtureRequest) -> None:
    """Each test that uses ``zoho_sandbox_session`` starts with a full request budget."""
    if "zoho_sandbox_session" in request.fixturenames:
        request.getfixturevalue("zoho_sandbox_session").set_max_requests(TEST_MAX_REQUESTS)
