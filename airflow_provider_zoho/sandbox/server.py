"""
The sandbox HTTP server: routing, the fake Zoho endpoints and the ``/__sandbox__`` control endpoints.

One port serves the Zoho Accounts token endpoints (``/oauth/v2/token``, ``/oauth/v2/token/revoke``), the
Apptics API (``/cx/api/v1/...``), the Desk API (``/api/v1/...``) and the control endpoints tests use
(``/__sandbox__/...``). The in-process methods of :class:`ZohoSandbox` and the control endpoints share the
same state and locks.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import socket
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_zoho.sandbox.accounts import TokenAuthority
from airflow_provider_zoho.sandbox.apptics import AppticsRenderer
from airflow_provider_zoho.sandbox.desk_api import (
    INVALID_OAUTH_MESSAGE,
    THRESHOLD_EXCEEDED_MESSAGE,
    TOO_MANY_REQUESTS_MESSAGE,
    DeskApi,
    DeskSettings,
    desk_error,
)
from airflow_provider_zoho.sandbox.desk_expected import DeskExpected, window_ms
from airflow_provider_zoho.sandbox.desk_model import (
    DEFAULT_ORG_ID,
    INCREMENTAL,
    MAX_BURST_ROWS,
    DeskBurst,
    DeskModel,
)
from airflow_provider_zoho.sandbox.expected import ExpectedRecords
from airflow_provider_zoho.sandbox.faults import (
    API_PREFIX,
    DESK_PREFIX,
    TOKEN_PATH,
    FaultInjector,
    FaultRuleError,
)
from airflow_provider_zoho.sandbox.model import MAX_OVERRIDE_ROWS, AppticsModel, Dataset
from airflow_provider_zoho.sandbox.query import (
    QUIRK_RESOURCES,
    RESOURCES,
    AppticsRequestError,
    format_date,
    match_path,
    parse_query,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from email.message import Message
    from types import TracebackType

    from typing_extensions import Self

    from airflow_provider_zoho.sandbox.faults import FaultRule

DEFAULT_CLIENT_ID = "1000.SANDBOXCLIENTID"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
DEFAULT_REFRESH_TOKEN = "1000.sandbox.refresh-token"
DEFAULT_PORTAL_ID = "766556673"
DEFAULT_PROJECT_ID = "782000000004007"
CONTROL_PREFIX = "/__sandbox__"
REVOKE_PATH = "/oauth/v2/token/revoke"
OVERRIDABLE_RESOURCES = ("crashes", "crash_os_versions", "crash_device_models", "affected_devices")
_JSON = "application/json;charset=UTF-8"
BUDGET_CODE = "SANDBOX_REQUEST_BUDGET_SPENT"

log = logging.getLogger("airflow_provider_zoho.sandbox")


def exposure_warning(host: str) -> str | None:
    """
    The warning for serving on a host other than loopback, or ``None`` for a loopback host.

    :param host: the interface the sandbox binds.
    """
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost, or "" (every interface)
        loopback = False
    if loopback:
        return None
    return (
        f"the Zoho sandbox binds {host or 'every interface'!r}, not a loopback address: anyone who can reach "
        f"this port can call its control endpoints ({CONTROL_PREFIX}/...), which have no authentication "
        "(they reset state, inject faults, mint grant codes and show the connection with its client secret "
        "and refresh token). Bind 127.0.0.1 unless the network is private."
    )


class _Reset(Exception):
    """Raised inside the handler to drop the connection with an RST."""


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _failure(status: int, code: str, message: str) -> tuple[int, Any]:
    return status, {"status": "failure", "error": {"code": code, "message": message}}


def _query_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return format_date(value.date())
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ZohoSandbox:
    """
    A local fake of Zoho Accounts (OAuth), the Zoho Apptics REST API and the Zoho Desk API.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with ZohoSandbox(seed=7) as sandbox:
            os.environ["AIRFLOW_CONN_ZOHO_DEFAULT"] = json.dumps(sandbox.connection())

    :param host: interface to bind (loopback by default).
    :param port: TCP port; 0 picks a free one (read it back from :attr:`url`).
    :param seed: seed of the deterministic Apptics data.
    :param token_ttl: access token lifetime in seconds.
    :param client_id: the registered client id.
    :param client_secret: its secret.
    :param refresh_token: a refresh token valid from the start (and after :meth:`reset`).
    :param portal_id: the Apptics portal (``zsoid`` header) served.
    :param project_id: the Apptics project (``projectid`` header) served.
    :param throttle_status: HTTP status of the token throttle answer (Zoho uses 400, sometimes 200).
    :param mint_limit: successful token mints allowed per refresh token in any ``mint_window``.
    :param mint_window: length of the sliding mint window in seconds.
    :param max_live_tokens: live access tokens kept per refresh token; one more revokes the oldest.
    :param legacy_expiry: answer ``expires_in`` in milliseconds plus ``expires_in_sec`` (older format).
    :param grant_code_ttl: lifetime of grant codes in seconds.
    :param max_refresh_tokens: refresh tokens kept per client; one more evicts the oldest.
    :param max_requests: the request budget: how many requests (Zoho endpoints, not the control ones) the
        sandbox answers after it starts or :meth:`reset`; past it, every such request gets HTTP 400
        ``SANDBOX_REQUEST_BUDGET_SPENT``, which no client retries, so a paging loop fails at once instead
        of hanging a test. ``None`` (default): no budget. See :meth:`set_max_requests`.
    :param desk_org_id: the Zoho Desk organization served (the ``orgId`` header; digits).
    :param desk_search_max_from: the largest ``from`` a Desk search accepts (999; 4999 was seen live).
    :param desk_search_max_window: when set, a Desk search's ``from + limit`` must not exceed it (5000 seen).
    :param desk_range_end_inclusive: whether the end of ``modifiedTimeRange`` is inclusive (default) or not.
    :param desk_list_from_base: where ``from`` starts on the Desk list endpoints, 0 (default) or 1.
    :param desk_search_lag_seconds: Desk rows modified this recently are not searchable yet (default 0).
    :param verbose: log every request to stderr.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: object = 0,
        token_ttl: float = 3600,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        refresh_token: str = DEFAULT_REFRESH_TOKEN,
        portal_id: str = DEFAULT_PORTAL_ID,
        project_id: str = DEFAULT_PROJECT_ID,
        throttle_status: int = 400,
        mint_limit: int = 10,
        mint_window: float = 600,
        max_live_tokens: int = 15,
        legacy_expiry: bool = False,
        grant_code_ttl: float = 180,
        max_refresh_tokens: int = 20,
        max_requests: int | None = None,
        desk_org_id: str = DEFAULT_ORG_ID,
        desk_search_max_from: int = 999,
        desk_search_max_window: int | None = None,
        desk_range_end_inclusive: bool = True,
        desk_list_from_base: int = 0,
        desk_search_lag_seconds: float = 0.0,
        verbose: bool = False,
    ) -> None:
        _check_budget(max_requests)
        self.host = host
        self._requested_port = port
        self.seed = seed
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.portal_id = str(portal_id)
        self.project_id = str(project_id)
        self.verbose = verbose
        self.authority = TokenAuthority(
            client_id,
            client_secret,
            refresh_token,
            token_ttl=token_ttl,
            mint_limit=mint_limit,
            mint_window=mint_window,
            max_live_tokens=max_live_tokens,
            throttle_status=throttle_status,
            legacy_expiry=legacy_expiry,
            grant_code_ttl=grant_code_ttl,
            max_refresh_tokens=max_refresh_tokens,
        )
        self.desk_org_id = str(desk_org_id)
        if not self.desk_org_id.isascii() or not self.desk_org_id.isdigit():
            raise ValueError(f"desk_org_id must be digits, not {desk_org_id!r}")
        self._desk_defaults = DeskSettings().changed(
            search_max_from=desk_search_max_from,
            search_max_window=desk_search_max_window,
            range_end_inclusive=desk_range_end_inclusive,
            list_from_base=desk_list_from_base,
            search_lag_seconds=desk_search_lag_seconds,
        )
        self._desk_settings = self._desk_defaults
        self._bursts: list[DeskBurst] = []
        self.desk_model = DeskModel(seed, self.desk_org_id)
        self._desk = DeskApi(self.desk_model)
        self._desk_oracle = DeskExpected(self.desk_model)
        self.model = AppticsModel(seed, self.portal_id, self.project_id)
        self._renderer = AppticsRenderer(self.model)
        self._oracle = ExpectedRecords(self.model)
        self._faults = FaultInjector()
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}
        self._ignore_offset: set[str] = set()
        self._quirks: dict[str, dict[str, frozenset[int]]] = {}
        self._counters: dict[str, Any] = {}
        self._max_requests = max_requests
        self._budget: int | None = max_requests
        self._reset_counters()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        warning = exposure_warning(host)
        if warning is not None:
            log.warning(warning)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """Bind and serve in a background (daemon) thread; returns ``self``."""
        if self._server is not None:
            return self
        server = _Server((self.host, self._requested_port), self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="zoho-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and release the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123`` (accounts and Apptics root alike)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    # ------------------------------------------------------------------ state shared with /__sandbox__
    def _reset_counters(self) -> None:
        self._counters = {
            "token_requests": 0,
            "api_requests": 0,
            "desk_requests": 0,
            "requests_by_path": {},
            "responses_by_status": {},
            "budget_used": 0,
            "budget_refused": 0,
        }

    def reset(self) -> None:
        """
        Forget tokens, counters, faults and dataset overrides; the request budget is the constructor's again.

        Configuration and seed stay.
        """
        self.authority.reset()
        self._faults.reset()
        with self._lock:
            self._rows.clear()
            self._ignore_offset.clear()
            self._quirks.clear()
            self._bursts.clear()
            self._desk_settings = self._desk_defaults
            self._budget = self._max_requests
            self._reset_counters()

    def set_max_requests(self, n: int | None) -> dict[str, Any]:
        """
        Give the sandbox a fresh request budget: ``n`` more requests from now, or none (``None``).

        :param n: how many Zoho requests (accounts and APIs, not ``/__sandbox__``) to answer before every
            further one gets HTTP 400 ``SANDBOX_REQUEST_BUDGET_SPENT``.
        :return: the budget as :meth:`budget` shows it.
        :raises ValueError: for anything but ``None`` or a whole number from 0 up.
        """
        _check_budget(n)
        with self._lock:
            self._budget = n
            self._counters["budget_used"] = self._counters["budget_refused"] = 0
        return self.budget()

    def budget(self) -> dict[str, Any]:
        """``{"max_requests", "used", "refused"}``: the request budget in force and what it has counted."""
        with self._lock:
            counters = self._counters
            return {
                "max_requests": self._budget,
                "used": counters["budget_used"],
                "refused": counters["budget_refused"],
            }

    def _spend_budget(self) -> bool:
        """Count one request against the budget; ``False`` when the budget is spent."""
        with self._lock:
            counters = self._counters
            if self._budget is not None and counters["budget_used"] >= self._budget:
                counters["budget_refused"] += 1
                return False
            counters["budget_used"] += 1
            return True

    def stats(self) -> dict[str, Any]:
        """Mint and request counters (never token values)."""
        tokens = self.authority.stats()
        with self._lock:
            counters = {
                "token_requests": self._counters["token_requests"],
                "api_requests": self._counters["api_requests"],
                "desk_requests": self._counters["desk_requests"],
                "requests_by_path": dict(self._counters["requests_by_path"]),
                "responses_by_status": dict(self._counters["responses_by_status"]),
            }
        return {
            "mints": tokens.pop("mints"),
            "mints_by_refresh_token": tokens.pop("mints_by_refresh_token"),
            "throttled": tokens.pop("throttled"),
            **counters,
            "live_tokens": tokens.pop("live_tokens"),
            **self._faults.stats(),
            **tokens,
            "request_budget": self.budget(),
        }

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """
        Add one fault rule (fields as in :class:`~airflow_provider_zoho.sandbox.faults.FaultRule`).

        :return: the rule as stored, with its ``id``.
        :raises ValueError: for an unknown kind or field.
        """
        return self._faults.add([rule])[0]

    def add_faults(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self._faults.add(rules)

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules with their ``seen`` and ``fired`` counters."""
        return self._faults.rules()

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_rows(self, resource: str, n: int | None) -> None:
        """
        Make a list resource return exactly ``n`` rows for any window (lazily; ``None`` restores the data).

        :param resource: one of ``crashes``, ``crash_os_versions``, ``crash_device_models``,
            ``affected_devices``.
        :param n: row count, 0 to 100,000,000.
        """
        if resource not in OVERRIDABLE_RESOURCES:
            raise ValueError(f"set_rows supports {', '.join(OVERRIDABLE_RESOURCES)}, not {resource!r}")
        valid = n is None or (isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_OVERRIDE_ROWS)
        if not valid:
            raise ValueError(f"rows must be an integer from 0 to {MAX_OVERRIDE_ROWS}")
        with self._lock:
            if n is None:
                self._rows.pop(resource, None)
            else:
                self._rows[resource] = n

    def set_ignore_offset(self, resource: str, flag: bool = True) -> None:
        """Make a paged resource answer its first page whatever the ``offset`` (a broken API)."""
        spec = RESOURCES.get(resource)
        if spec is None or not spec.paged:
            raise ValueError(f"{resource!r} is not a paged resource")
        with self._lock:
            if flag:
                self._ignore_offset.add(resource)
            else:
                self._ignore_offset.discard(resource)

    def set_quirks(self, resource: str, **days: Iterable[str | dt.date] | None) -> None:
        """
        Turn API quirks on for chosen days of one resource (deterministic; all off by default).

        A quirk is in force for a request whose window's days are all listed (a one-day window: its day is
        listed). ``extra_field``: every row gains the key ``ReleaseChannel``, which no client knows;
        ``integer_rate``: ``crash_summary`` sends ``crashfreeusers`` as a whole number (``99``, not
        ``99.5``); ``empty``: no rows at all. :meth:`expected` shows them as a client sees them.

        :param resource: the resource (``QUIRK_RESOURCES`` in ``sandbox.query`` says which take which quirk).
        :param days: quirk name -> days (``date`` or ``YYYY-MM-DD``); an empty list or ``None`` turns it
            off. The quirks not named stay as they are.
        :raises ValueError: for an unknown quirk, a resource it does not apply to, or a bad day.
        """
        parsed: dict[str, frozenset[int]] = {}
        for quirk, listed in days.items():
            applies = QUIRK_RESOURCES.get(quirk)
            if applies is None:
                raise ValueError(f"unknown quirk {quirk!r}; quirks: {', '.join(QUIRK_RESOURCES)}")
            if resource not in applies:
                raise ValueError(f"the {quirk} quirk applies to {', '.join(applies)}, not {resource!r}")
            parsed[quirk] = frozenset(_day_ordinal(day) for day in (listed or ()))
        with self._lock:
            quirks = self._quirks.setdefault(resource, {})
            for quirk, ordinals in parsed.items():
                if ordinals:
                    quirks[quirk] = ordinals
                else:
                    quirks.pop(quirk, None)
            if not quirks:
                del self._quirks[resource]

    def datasets(self) -> dict[str, Any]:
        with self._lock:
            quirks = {
                resource: {
                    q: [dt.date.fromordinal(o).isoformat() for o in sorted(days)] for q, days in kinds.items()
                }
                for resource, kinds in sorted(self._quirks.items())
            }
            return {"rows": dict(self._rows), "ignore_offset": sorted(self._ignore_offset), "quirks": quirks}

    def _dataset(self, resource: str) -> Dataset:
        with self._lock:
            rows, crash_rows = self._rows.get(resource), self._rows.get("crashes")
            quirk_days = tuple(sorted(self._quirks.get(resource, {}).items()))
            return Dataset(rows, resource in self._ignore_offset, crash_rows, quirk_days)

    # ------------------------------------------------------------------ Zoho Desk
    def desk_settings(self) -> dict[str, Any]:
        """The Desk behaviours in force (:class:`~airflow_provider_zoho.sandbox.desk_api.DeskSettings`)."""
        with self._lock:
            return self._desk_settings.to_dict()

    def configure_desk(self, **settings: Any) -> dict[str, Any]:
        """
        Change Desk behaviours until :meth:`reset` (which restores the constructor's).

        :param settings: any of ``search_max_from``, ``search_max_window``, ``range_end_inclusive``,
            ``list_from_base``, ``search_lag_seconds``.
        :return: the settings in force.
        :raises ValueError: for an unknown setting or a bad value.
        """
        with self._lock:
            self._desk_settings = self._desk_settings.changed(**settings)
            return self._desk_settings.to_dict()

    def add_desk_rows(
        self, resource: str, rows: int, start: str | dt.datetime, end: str | dt.datetime | None = None
    ) -> None:
        """
        Add ``rows`` tickets or contacts modified over ``[start, end)`` (evenly), or all at ``start``.

        For tests of the search cap (more rows in one window than ``from`` can reach) and of many rows
        sharing one ``modifiedTime``. The rows have fields like any other, their own ids, and show in
        the search, list and :meth:`expected_desk` answers. :meth:`reset` removes them.

        :param resource: ``tickets`` or ``contacts``.
        :param rows: how many, 1 to 1,000,000.
        :param start: an aware ``datetime`` or ISO-8601 string with a zone.
        :param end: the same, after ``start``; ``None``: every row at ``start``.
        """
        if resource not in INCREMENTAL:
            raise ValueError(f"Desk rows can be added to {', '.join(INCREMENTAL)}, not {resource!r}")
        if not isinstance(rows, int) or isinstance(rows, bool) or not 1 <= rows <= MAX_BURST_ROWS:
            raise ValueError(f"rows must be a whole number from 1 to {MAX_BURST_ROWS}")
        start_ms = window_ms(start, "start")
        end_ms = start_ms if end is None else window_ms(end, "end")
        if end_ms < start_ms:
            raise ValueError("end must not be before start")
        with self._lock:
            if len(self._bursts) >= 40:
                raise ValueError("at most 40 sets of Desk rows; reset() or clear_desk_rows() first")
            self._bursts.append(DeskBurst(resource, rows, start_ms, end_ms))

    def desk_rows(self) -> list[dict[str, Any]]:
        """The Desk rows added by :meth:`add_desk_rows`."""
        with self._lock:
            return [burst._asdict() for burst in self._bursts]

    def clear_desk_rows(self) -> None:
        with self._lock:
            self._bursts.clear()

    def expected_desk(
        self,
        resource: str,
        modified_from: str | dt.datetime | None = None,
        modified_to: str | dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        """
        The tidy records a correct client extracts from Desk for the window ``[modified_from, modified_to)``.

        Normalization and order: :mod:`~airflow_provider_zoho.sandbox.desk_expected`. Snapshot resources
        (``departments``, ``agents``) ignore the window.

        :param resource: ``tickets``, ``contacts``, ``departments`` or ``agents``.
        :raises KeyError: for an unknown resource.
        :raises ValueError: for a missing or naive bound.
        """
        with self._lock:
            bursts = tuple(self._bursts)
        return self._desk_oracle.records(resource, bursts, modified_from, modified_to)

    def issue_grant_code(self, scope: str | None = None, expires_in: float | None = None) -> str:
        """A single-use grant code for ``grant_type=authorization_code`` (lives 180 s by default)."""
        return str(self.authority.issue_grant_code(scope, expires_in)["code"])

    def expected(self, resource: str, **query: Any) -> list[dict[str, Any]]:
        """
        The normalized records a correct client extracts for this request (every page).

        :param resource: resource name, e.g. ``crashes``.
        :param query: the API's query parameters (``startdate="01-03-2024"``, ``platform="iOS"``...;
            dates, lists and numbers are converted), plus ``crash_id`` for ``/crash/{crash_id}/...``.
        :raises KeyError: for an unknown resource.
        :raises AppticsRequestError: for a request the API would reject.
        """
        converted = ((key, _query_value(value)) for key, value in query.items())
        params = {key: value for key, value in converted if value is not None}
        return self._expected(resource, params)

    def _expected(self, resource: str, params: dict[str, str]) -> list[dict[str, Any]]:
        spec = RESOURCES.get(resource)
        if spec is None:
            raise KeyError(f"unknown resource {resource!r}; known: {', '.join(RESOURCES)}")
        crash_id = params.pop("crash_id", None)
        parsed = parse_query(spec, params, crash_id)
        return self._oracle.records(parsed, self._dataset(resource))

    def connection(self, conn_id: str = "zoho_default") -> dict[str, Any]:
        """
        An Airflow connection pointing at this sandbox, ready for ``json.dumps`` into ``AIRFLOW_CONN_<ID>``.

        :param conn_id: connection id (only used by :meth:`connection_env`).
        """
        return {
            "conn_type": "zoho",
            "login": self.client_id,
            "password": self.client_secret,
            "extra": {
                "refresh_token": self.refresh_token,
                "data_center": "com",
                "accounts_url": self.url,
                "apptics_url": self.url,
                "portal_id": self.portal_id,
                "project_id": self.project_id,
                "desk_url": self.url,
                "desk_org_id": self.desk_org_id,
            },
        }

    def connection_env(self, conn_id: str = "zoho_default") -> dict[str, str]:
        """``{"AIRFLOW_CONN_<ID>": <connection JSON>}``, e.g. for ``monkeypatch.setenv``."""
        return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(self.connection(conn_id))}

    # ------------------------------------------------------------------ request handling
    def _count(self, path: str) -> None:
        with self._lock:
            counters = self._counters
            by_path = counters["requests_by_path"]
            by_path[path] = by_path.get(path, 0) + 1
            if path.startswith(API_PREFIX):
                counters["api_requests"] += 1
            elif _is_desk(path):
                counters["desk_requests"] += 1
            elif path == TOKEN_PATH:
                counters["token_requests"] += 1

    def _count_status(self, status: int) -> None:
        with self._lock:
            by_status = self._counters["responses_by_status"]
            key = str(status)
            by_status[key] = by_status.get(key, 0) + 1

    def _handle(self, request: _Request) -> tuple[int, Any, dict[str, str]]:
        """Answer one non-control request, faults included; raises :class:`_Reset` to drop the connection."""
        self._count(request.path)
        if not self._spend_budget():
            return self._budget_spent(request.path)
        offset = request.params.get("from" if _is_desk(request.path) else "offset")
        rule = self._faults.match(request.path, offset)
        if rule is not None:
            answer = self._fault_answer(rule, request)
            if answer is not None:
                return answer
        status, body = self._route(request)
        return status, body, {}

    def _budget_spent(self, path: str) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            budget = self._budget
        message = (
            f"the sandbox request budget is spent: it answered its {budget} request(s) since it started, was "
            "reset or was given a budget (max_requests). A client that pages or retries without end, or a "
            "test that needs more requests (raise max_requests), gets this answer."
        )
        if path.rstrip("/") in (TOKEN_PATH, REVOKE_PATH):
            return 400, {"error": BUDGET_CODE.lower(), "error_description": message}, {}
        if _is_desk(path):
            return 400, desk_error(BUDGET_CODE, message), {}
        status, body = _failure(400, BUDGET_CODE, message)
        return status, body, {}

    def _fault_answer(self, rule: FaultRule, request: _Request) -> tuple[int, Any, dict[str, str]] | None:
        headers: dict[str, str] = {}
        if rule.retry_after is not None:
            seconds = rule.retry_after
            headers["Retry-After"] = str(int(seconds)) if float(seconds).is_integer() else str(seconds)
        if rule.kind == "reset":
            raise _Reset()
        if rule.kind == "delay":
            time.sleep(rule.seconds)
            return None
        desk = _is_desk(request.path)
        if rule.kind == "status":
            return rule.status, rule.error_body(desk), headers
        if rule.kind == "threshold_exceeded":
            return 429, desk_error("THRESHOLD_EXCEEDED", THRESHOLD_EXCEEDED_MESSAGE), headers
        if rule.kind == "too_many_requests":
            return 429, desk_error("TOO_MANY_REQUESTS", TOO_MANY_REQUESTS_MESSAGE), headers
        if rule.kind == "throttle":
            answer = self.authority.throttle_answer()
            return answer.status, answer.body, headers
        if rule.kind == "unauthorized":
            token = request.access_token()
            if token:
                self.authority.revoke_access_token(token)
            if desk:
                return 401, desk_error("INVALID_OAUTH", INVALID_OAUTH_MESSAGE), headers
            status, body = _failure(401, "INVALID_OAUTHTOKEN", "The OAuth token has been revoked")
            return status, body, headers
        # malformed: the real answer, cut short, as HTTP 200
        status, body = self._route(request)
        encoded = _encode(body)
        return 200, _Raw(encoded[: max(1, len(encoded) // 2)]), headers

    def _route(self, request: _Request) -> tuple[int, Any]:
        path = request.path
        if path.startswith(API_PREFIX + "/") or path == API_PREFIX:
            return self._api(request)
        if _is_desk(path):
            with self._lock:
                settings, bursts = self._desk_settings, tuple(self._bursts)
            token = request.access_token()
            return self._desk.answer(
                request.method,
                path[len(DESK_PREFIX) :],
                request.params,
                request.header,
                lambda t: bool(t) and self.authority.is_live(t or ""),
                token,
                settings,
                bursts,
            )
        if path.rstrip("/") == TOKEN_PATH:
            if request.method != "POST":
                return _failure(405, "METHOD_NOT_ALLOWED", "use POST")
            answer = self.authority.token(request.form())
            return answer.status, answer.body
        if path.rstrip("/") == REVOKE_PATH:
            if request.method != "POST":
                return _failure(405, "METHOD_NOT_ALLOWED", "use POST")
            answer = self.authority.revoke(request.form().get("token"))
            return answer.status, answer.body
        return _failure(404, "URL_NOT_FOUND", f"no such URL: {path}")

    def _api(self, request: _Request) -> tuple[int, Any]:
        matched = match_path(request.path[len(API_PREFIX) :])
        if matched is None:
            return _failure(404, "URL_NOT_FOUND", f"no such API: {request.path}")
        if request.method != "GET":
            return _failure(405, "METHOD_NOT_ALLOWED", "Apptics API calls use GET")
        spec, crash_id = matched
        token = request.access_token()
        if not token or not self.authority.is_live(token):
            return _failure(401, "INVALID_OAUTHTOKEN", "The OAuth token is invalid, expired or revoked")
        if spec.project_headers:
            zsoid, project = request.header("zsoid"), request.header("projectid")
            if not zsoid or not project:
                return _failure(400, "INVALID_HEADERS", "zsoid and projectid headers are required")
            if zsoid != self.portal_id or project != self.project_id:
                return _failure(403, "UNAUTHORIZED_ACCESS", "no access to this portal or project")
        try:
            query = parse_query(spec, request.params, crash_id)
            return 200, self._renderer.render(query, self._dataset(spec.name))
        except AppticsRequestError as error:
            return error.status, error.body()

    def _control(self, request: _Request) -> tuple[int, Any]:
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        method = request.method
        try:
            if name == "stats" and method == "GET":
                return 200, self.stats()
            if name == "reset" and method == "POST":
                self.reset()
                return 200, {"status": "success"}
            if name == "health" and method == "GET":
                return 200, {"status": "ok", "url": self.url}
            if name == "connection" and method == "GET":
                return 200, self.connection(request.params.get("conn_id") or "zoho_default")
            if name == "faults":
                if method == "GET":
                    return 200, {"faults": self.faults()}
                if method == "DELETE":
                    self.clear_faults()
                    return 200, {"faults": []}
                if method == "POST":
                    body = request.json()
                    rules = body if isinstance(body, list) else [body]
                    return 200, {"faults": self.add_faults(rules)}
            if name == "budget":
                if method == "GET":
                    return 200, self.budget()
                if method == "POST":
                    body = request.json()
                    if not isinstance(body, dict) or "max_requests" not in body:
                        return _failure(400, "INVALID_REQUEST", 'expected {"max_requests": n or null}')
                    return 200, self.set_max_requests(body["max_requests"])
            if name == "grant" and method == "POST":
                body = request.json() if request.body else {}
                if not isinstance(body, dict):
                    return _failure(400, "INVALID_BODY", "expected a JSON object")
                return 200, self.authority.issue_grant_code(body.get("scope"), body.get("expires_in"))
            if name == "dataset":
                if method == "GET":
                    return 200, self.datasets()
                if method == "DELETE":
                    with self._lock:
                        self._rows.clear()
                        self._ignore_offset.clear()
                        self._quirks.clear()
                    return 200, self.datasets()
                if method == "POST":
                    return self._dataset_control(request.json())
            if name == "desk":
                if method == "GET":
                    return 200, self.desk_settings()
                if method == "POST":
                    body = request.json()
                    if not isinstance(body, dict):
                        return _failure(400, "INVALID_REQUEST", 'expected {"search_max_from": 4999, ...}')
                    return 200, self.configure_desk(**body)
            if name == "desk/rows":
                if method == "GET":
                    return 200, {"rows": self.desk_rows()}
                if method == "DELETE":
                    self.clear_desk_rows()
                    return 200, {"rows": []}
                if method == "POST":
                    body = request.json()
                    if not isinstance(body, dict) or set(body) - {"resource", "rows", "start", "end"}:
                        expected = '{"resource": "tickets", "rows": n, "start": iso, "end": iso}'
                        return _failure(400, "INVALID_REQUEST", f"expected {expected}")
                    self.add_desk_rows(**body)
                    return 200, {"rows": self.desk_rows()}
            if name.startswith("expected/desk/") and method == "GET":
                params = request.params
                unknown = sorted(set(params) - {"modified_from", "modified_to"})
                if unknown:
                    return _failure(400, "INVALID_REQUEST", f"unknown parameter(s) {', '.join(unknown)}")
                records = self.expected_desk(
                    name[len("expected/desk/") :], params.get("modified_from"), params.get("modified_to")
                )
                return 200, {"records": records}
            if name.startswith("expected/") and method == "GET":
                return 200, {"records": self._expected(name[len("expected/") :], dict(request.params))}
        except FaultRuleError as error:
            return _failure(400, "INVALID_FAULT", str(error))
        except (ValueError, TypeError) as error:
            return _failure(400, "INVALID_REQUEST", str(error))
        except KeyError as error:
            return _failure(404, "UNKNOWN_RESOURCE", str(error.args[0]) if error.args else "unknown")
        except AppticsRequestError as error:
            return error.status, error.body()
        return _failure(404, "URL_NOT_FOUND", f"no control endpoint {method} {request.path}")

    def _dataset_control(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("resource"), str):
            expected = '{"resource": ..., "rows": n, "ignore_offset": true, "quirks": {"empty": [days]}}'
            return _failure(400, "INVALID_REQUEST", f"expected {expected}")
        resource = body["resource"]
        if "quirks" in body:
            if not isinstance(body["quirks"], dict):
                return _failure(400, "INVALID_REQUEST", 'quirks is an object: {"empty": ["2026-03-01"], ...}')
            self.set_quirks(resource, **body["quirks"])
        if "rows" in body:
            self.set_rows(resource, body["rows"])
        if "ignore_offset" in body:
            self.set_ignore_offset(resource, bool(body["ignore_offset"]))
        return 200, self.datasets()


def _is_desk(path: str) -> bool:
    return path == DESK_PREFIX or path.startswith(DESK_PREFIX + "/")


def _check_budget(n: object) -> None:
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
        raise ValueError(f"max_requests must be None or a whole number from 0 up, not {n!r}")


def _day_ordinal(day: object) -> int:
    if isinstance(day, dt.date) and not isinstance(day, dt.datetime):
        return day.toordinal()
    if isinstance(day, str) and len(day.strip()) == 10:
        try:
            return dt.date.fromisoformat(day.strip()).toordinal()
        except ValueError:
            pass
    raise ValueError(f"a quirk day is a date or YYYY-MM-DD, not {day!r}")


class _Raw(bytes):
    """A body sent as is (not JSON-encoded)."""


class _Request:
    """One parsed HTTP request."""

    __slots__ = ("body", "headers", "method", "params", "path")

    def __init__(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: Message | Mapping[str, str],
        body: bytes,
    ) -> None:
        self.method = method
        self.path = path
        self.params = params
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return value.strip() if value is not None else None

    def access_token(self) -> str | None:
        value = self.header("Authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() in ("zoho-oauthtoken", "bearer") and token.strip():
            return token.strip()
        return None

    def form(self) -> dict[str, str]:
        """Query string parameters, overridden by form body parameters."""
        merged = dict(self.params)
        if self.body:
            text = self.body.decode("utf-8", "replace")
            merged.update({key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()})
        return merged

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise ValueError("the body is not valid JSON") from None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ZohoSandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 30  # close idle keep-alive connections, as real servers do (frees their threads)
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            sys.stderr.write(f"[zoho-sandbox] {self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        params = {key: values[0] for key, values in parse_qs(split.query, keep_blank_values=True).items()}
        request = _Request(self.command, split.path or "/", params, self.headers, self._read_body())
        if request.path.startswith(CONTROL_PREFIX):
            status, body = sandbox._control(request)
            self._send(status, body, {})
            return
        try:
            status, body, headers = sandbox._handle(request)
        except _Reset:
            self._reset()
            return
        sandbox._count_status(status)
        self._send(status, body, headers)

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        if status == 204:  # Desk's "no (more) rows": no body at all
            self.send_response(204)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        payload = bytes(body) if isinstance(body, _Raw) else _encode(body)
        self.send_response(status)
        self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        """Close the connection with an RST and no answer (SO_LINGER 0)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.rfile.close()
        self.wfile.close()
        self.connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: ZohoSandbox) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn): slow and needless here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track(self, connection: socket.socket, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.sandbox.verbose:
            super().handle_error(request, client_address)
