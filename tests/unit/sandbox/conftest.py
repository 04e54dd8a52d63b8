"""Sandbox tests: real HTTP over loopback; no Airflow, no network beyond 127.0.0.1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_zoho.sandbox.pytest_plugin import (  # noqa: F401
    _zoho_sandbox_session_budget,
    zoho_sandbox,
    zoho_sandbox_session,
)
from tests.unit.sandbox.client import SandboxClient

if TYPE_CHECKING:
    from collections.abc import Iterator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "zoho_sandbox(**options): ZohoSandbox keyword arguments")


@pytest.fixture(autouse=True)
def _fresh_token_memo():
    """The sandbox needs nothing from the provider's hooks (overrides tests/unit/conftest.py's fixture)."""
    return


@pytest.fixture
def client(request: pytest.FixtureRequest) -> Iterator[SandboxClient]:
    """A client of the function-scoped ``zoho_sandbox``."""
    with SandboxClient(request.getfixturevalue("zoho_sandbox")) as sandbox_client:
        yield sandbox_client
