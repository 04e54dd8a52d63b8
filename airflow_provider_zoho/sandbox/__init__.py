"""
A local fake of Zoho Accounts (OAuth) and the Zoho Apptics REST API, for development, demos and tests.

Standard library only; importing this package does no work. Run it with
``python -m airflow_provider_zoho.sandbox`` or in-process::

    from airflow_provider_zoho.sandbox import ZohoSandbox

    with ZohoSandbox(seed=1) as sandbox:
        print(sandbox.url, sandbox.connection())

For pytest: ``pytest_plugins = ["airflow_provider_zoho.sandbox.pytest_plugin"]`` gives the fixtures
``zoho_sandbox`` and ``zoho_sandbox_session``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_zoho.sandbox.query import AppticsRequestError
    from airflow_provider_zoho.sandbox.server import ZohoSandbox

__all__ = ["AppticsRequestError", "ZohoSandbox"]


def __getattr__(name: str) -> Any:
    if name == "ZohoSandbox":
        from airflow_provider_zoho.sandbox.server import ZohoSandbox

        return ZohoSandbox
    if name == "AppticsRequestError":
        from airflow_provider_zoho.sandbox.query import AppticsRequestError

        return AppticsRequestError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
