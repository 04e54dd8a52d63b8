"""
A local fake of Zoho Accounts (OAuth), the Zoho Apptics REST API and the Zoho Desk API.

For development, demos and tests.

Standard library only; importing this package does no work. Run it with
``python -m airflow_provider_zoho.sandbox`` or in-process::

    from airflow_provider_zoho.sandbox import ZohoSandbox

    with ZohoSandbox(seed=1) as sandbox:
        print(sandbox.url, sandbox.connection())

For pytest: ``pytest_plugins = ["airflow_provider_zoho.sandbox.pytest_plugin"]`` gives the fixtures
``zoho_sandbox`` and ``zoho_sandbox_session``.

Zoho Desk is served on the same port under ``/api/v1`` (``connection()`` sets ``desk_url`` and
``desk_org_id``): ``GET /organizations`` (token, no ``orgId``); ``/tickets/search`` and ``/contacts/search``
(``modifiedTimeRange``, ``sortBy=modifiedTime`` or ``-modifiedTime``, ``from``, ``limit`` 1..100, ``{"data",
"count"}`` or 204); ``/tickets`` and ``/contacts`` (list rows without ``modifiedTime``, ``cf``,
``description``); ``/departments`` and ``/agents`` (snapshots). Every call but ``/organizations`` needs the
``orgId`` header (missing: 400; not digits: an opaque 500; another org: 403 ``OAUTH_ORG_MISMATCH``); a bad
token is 401 ``INVALID_OAUTH``; unknown parameters are 422. Tickets and contacts are modified over
2026-01-01 .. 2026-06-30, a few an hour, some hours busy; ``add_desk_rows()`` adds N rows to one window or
one instant. What Zoho does not document is a setting (``configure_desk()``, ``/__sandbox__/desk``): the
search cap on ``from`` (999; 4999; ``from + limit`` <= 5000), an exclusive end of ``modifiedTimeRange``,
the list's ``from`` base (0 or 1), a search lag. Faults apply to Desk paths too (``threshold_exceeded``,
``too_many_requests``, ``unauthorized`` answer Desk's bodies). ``expected_desk()`` and
``/__sandbox__/expected/desk/<resource>?modified_from=..&modified_to=..`` give the tidy records of the
half-open window (rules in :mod:`~airflow_provider_zoho.sandbox.desk_expected`).
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
