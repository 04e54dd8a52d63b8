"""
``ZohoDeskHook``: Zoho Desk tickets, contacts, departments and agents as a stream of tidy records.

What each resource is and how its records are normalized lives in
:mod:`~airflow_provider_zoho.hooks.desk_resources`. This hook adds Desk's side of HTTP on top of the OAuth
hook's core (the same token cache, retries and error mapping): the Desk host, the ``orgId`` header, Desk's
error codes, and paging that never skips a row:

- ``tickets`` and ``contacts`` go through the search endpoint sorted by ``modifiedTime``, with keyset
  paging by time (:class:`SearchCursor`): each query starts at the last ``modifiedTime`` seen and skips
  the ids already taken at that instant, so the window is split by time at every page and no query goes
  deeper than one page, whatever Desk's cap on ``from``;
- ``departments`` and ``agents`` are snapshots of list endpoints, paged with ``from`` and de-duplicated by
  id (:class:`SnapshotCursor`), so either base of ``from`` gives every row once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoConfigError
from airflow_provider_zoho.hooks.desk_resources import (
    API_ROOT,
    ORGANIZATIONS,
    RESOURCES,
    format_ms,
    instant_ms,
    resource_named,
)
from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook
from airflow_provider_zoho.hooks.zoho_http import json_or_none, scrub
from airflow_provider_zoho.windows import parse_instant

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from airflow_provider_zoho.hooks.desk_resources import DeskResource
    from airflow_provider_zoho.hooks.zoho_http import Response

log = logging.getLogger(__name__)

__all__ = ["RESOURCES", "SCOPES", "SearchCursor", "SnapshotCursor", "ZohoDeskHook"]

#: The OAuth scopes a refresh token needs for every Desk resource (read only).
SCOPES = "Desk.tickets.READ,Desk.contacts.READ,Desk.search.READ,Desk.basic.READ"
#: Query parameters the hook sets itself; ``**params`` may not override them.
RESERVED_PARAMS = frozenset({"from", "limit", "sortBy", "modifiedTimeRange", "orgId"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MS = dt.timedelta(milliseconds=1)


def row_id(row: dict[str, Any], resource: str) -> str:
    """The ``id`` of a Desk row, as text; ``ZohoAPIError`` when it has none."""
    value = row.get("id")
    if value is None or isinstance(value, (bool, dict, list)):
        raise ZohoAPIError(f"Zoho Desk resource {resource!r}: a row has no usable id: {_snippet(row)}")
    return str(value)


def _snippet(value: Any, size: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= size else f"{text[:size]}..."


class SearchCursor:
    """
    Keyset paging by time through one window of a Desk search: where the next query starts, what to keep.

    Every query asks for ``modifiedTimeRange=<anchor - 1 ms>,<end>`` sorted by ``modifiedTime`` (rows with
    the same time come in one fixed order, ascending id on Desk), ``from=0``. The anchor is the last
    ``modifiedTime`` taken; the ids taken at that instant are skipped when the next query returns them
    again. Starting 1 ms early and ending at ``end`` covers both readings of each undocumented bound
    (inclusive or exclusive): the rows outside ``[start, end)`` are dropped here. A row at or after
    ``end`` ends the window (rows come sorted). Only when a full page brings the anchor no further (more
    rows share one instant than a page holds) does the next query page deeper with ``from`` inside that
    instant, up to ``max_results``; more rows at one instant than that cannot be reached, and are a
    ``ZohoAPIError`` that says so.

    Rows edited while the window is read move to a later ``modifiedTime``: queries start from the anchor,
    not from an offset into a result set that shrank, so no row is skipped (an edited row may be taken
    twice, once per state; "latest ``modified_time`` per ``id`` wins" downstream). The exception is the
    ``from`` paging inside one crowded instant, where an edit of one of its rows can shift a page.

    :param resource: the resource name, for errors.
    :param start_ms: the window's first instant, epoch milliseconds (inclusive).
    :param end_ms: the window's end, epoch milliseconds (exclusive).
    :param limit: rows per page.
    :param max_results: the deepest result one query may reach (``from + limit`` at most this).
    """

    def __init__(self, resource: str, start_ms: int, end_ms: int, limit: int, max_results: int) -> None:
        self.resource = resource
        self.end_ms = end_ms
        self.limit = limit
        self.max_results = max_results
        #: Every row of the window before this instant has been taken.
        self.anchor = start_ms
        #: The ids taken at :attr:`anchor`.
        self.taken: set[str] = set()
        #: ``from`` of the next query: 0 but inside one crowded instant.
        self.offset = 0

    @property
    def params(self) -> dict[str, str]:
        """The query parameters of the next page."""
        return {
            "modifiedTimeRange": f"{format_ms(self.anchor - 1)},{format_ms(self.end_ms)}",
            "sortBy": "modifiedTime",
            "from": str(self.offset),
            "limit": str(self.limit),
        }

    def advance(self, rows: list[Any]) -> tuple[list[dict[str, Any]], bool]:
        """
        Take one page: return the rows of the window not taken before, and whether to query again.

        :param rows: the page's rows, as Desk sent them (an empty list for HTTP 204).
        :raises ZohoAPIError: for rows without an id or a ``modifiedTime``, rows out of ``modifiedTime``
            order, and an instant holding more rows than one query can reach.
        """
        anchor_before = self.anchor
        kept: list[dict[str, Any]] = []
        previous: int | None = None
        for row in rows:
            if type(row) is not dict:
                raise ZohoAPIError(
                    f"Zoho Desk resource {self.resource!r}: expected each row to be a JSON object, got "
                    f"{_snippet(row)}"
                )
            at = self._modified_ms(row)
            if previous is not None and at < previous:
                raise ZohoAPIError(
                    f"Zoho Desk answered {self.resource!r} rows out of modifiedTime order ({format_ms(at)} "
                    f"after {format_ms(previous)}) although sortBy=modifiedTime: paging by time would skip "
                    "rows, so the extraction stops."
                )
            previous = at
            if at >= self.end_ms:
                return kept, False  # sorted: nothing after this row is in the window
            if at < self.anchor:
                continue  # before the window, or taken by an earlier page
            identity = row_id(row, self.resource)
            if at > self.anchor:
                self.anchor, self.taken = at, set()
            elif identity in self.taken:
                continue
            self.taken.add(identity)
            kept.append(row)
        if len(rows) < self.limit:
            return kept, False
        if self.anchor > anchor_before:
            self.offset = 0
        else:
            self.offset += self.limit
            if self.offset + self.limit > self.max_results:
                raise ZohoAPIError(
                    f"Zoho Desk holds more {self.resource} at the modifiedTime {format_ms(self.anchor)} (or "
                    f"the millisecond before) than one search can reach ({self.max_results} results): they "
                    "cannot all be extracted. If Desk lets your portal search deeper, raise "
                    "ZohoDeskHook.search_max_results."
                )
        return kept, True

    def _modified_ms(self, row: dict[str, Any]) -> int:
        value = row.get("modifiedTime")
        try:
            return instant_ms(value)
        except (ValueError, OverflowError):
            raise ZohoAPIError(
                f"Zoho Desk resource {self.resource!r}: a search row has no usable modifiedTime "
                f"({value!r}), so the window cannot be paged by time: {_snippet(row)}"
            ) from None


class SnapshotCursor:
    """
    Paging through a Desk list endpoint with ``from``/``limit``, every row once.

    Sources disagree on whether ``from`` starts at 0 or 1 on lists (with 1, ``from=0`` reads like
    ``from=1``); rows are de-duplicated by id, so starting at 0 gives every row once either way (starting
    at 1 would miss the first row of a 0-based list). A full page of rows all seen before means the API
    ignores ``from``: a ``ZohoAPIError``, not an endless loop.

    :param resource: the resource name, for errors.
    :param limit: rows per page.
    :param base: the first ``from``.
    """

    def __init__(self, resource: str, limit: int, base: int = 0) -> None:
        self.resource = resource
        self.limit = limit
        self.offset = base
        self.seen: set[str] = set()

    @property
    def params(self) -> dict[str, str]:
        """The query parameters of the next page."""
        return {"from": str(self.offset), "limit": str(self.limit)}

    def advance(self, rows: list[Any]) -> tuple[list[dict[str, Any]], bool]:
        """
        Take one page: return the rows not seen before, and whether to fetch another page.

        :raises ZohoAPIError: for a row without an id, or a full page of rows seen before.
        """
        kept = []
        for row in rows:
            if type(row) is not dict:
                raise ZohoAPIError(
                    f"Zoho Desk resource {self.resource!r}: expected each row to be a JSON object, got "
                    f"{_snippet(row)}"
                )
            identity = row_id(row, self.resource)
            if identity not in self.seen:
                self.seen.add(identity)
                kept.append(row)
        if len(rows) < self.limit:
            return kept, False
        if not kept:
            raise ZohoAPIError(
                f"Zoho Desk answered from={self.offset} of {self.resource!r} with rows it had already sent: "
                "the API ignores from, so paging would never end."
            )
        self.offset += self.limit
        return kept, True


class ZohoDeskHook(ZohoOAuthHook):
    """
    Read Zoho Desk: tickets and contacts by modification time, departments and agents as snapshots.

    The ``zoho`` connection's ``desk_org_id`` is sent as the ``orgId`` header of every call but
    :meth:`list_organizations`; calls go to ``desk_url`` (default ``https://desk.zoho.<data center>``,
    ``https://desk.zohocloud.ca`` for ``ca``), never to the token's ``api_domain``, which does not serve
    Desk. The same refresh token may carry the Apptics scope too: both products share one token. The
    constructor does no I/O.

    What no public source settles is an attribute with the documented default (set it on a subclass, or
    on an instance before extracting): :attr:`search_max_results`, :attr:`list_from_base`,
    :attr:`search_lag_seconds`.

    :param zoho_conn_id: the Airflow connection id.
    """

    #: The resource catalog: name -> path, paging and declared columns.
    RESOURCES: Mapping[str, DeskResource] = RESOURCES
    #: Rows per page (``limit``); Desk accepts 1 to 100.
    page_limit: int = 100
    #: The deepest result one search may reach (``from + limit`` at most this). Zoho's current API
    #: specification declares ``from`` at most 999 on search; 4999 (``from + limit`` <= 5000) was seen live.
    #: Keyset paging needs ``from`` only inside one instant holding more rows than a page.
    search_max_results: int = 1000
    #: The first ``from`` of the list endpoints (departments, agents): 0 (the current specification; rows
    #: are de-duplicated by id, so a 1-based Desk gives every row once too).
    list_from_base: int = 0
    #: How long Desk's search may lag behind edits, in seconds (nothing published either way: default 0).
    #: A window that ended less than this ago is searched only once it is this old (the hook waits); rows
    #: indexed later than that are what ``lookback`` re-extracts.
    search_lag_seconds: float = 0.0
    #: Seconds between two progress lines while streaming.
    progress_interval: float = 10.0
    scopes = SCOPES
    status_hints = {
        **ZohoOAuthHook.status_hints,
        400: "Desk refused the request; check the arguments and the connection's desk_org_id",
        403: "access denied; check that the connection's desk_org_id is an organization of this account "
        f"(ZohoDeskHook().list_organizations()) and that the refresh token has the scopes {SCOPES}",
        404: "no such endpoint; check desk_url / the data center (Desk also answers 404 to a missing scope)",
        422: "Desk refused a parameter",
    }
    error_hints = {
        "THRESHOLD_EXCEEDED": "the Zoho Desk portal's daily API credits are spent. Credits reset daily (at "
        "midnight in the data center's time zone) and are shared with every other integration of the "
        "portal, so this is not retried: run the task again after the reset, or buy more credits (Desk: "
        "Setup, Developer Space, API)",
        "TOO_MANY_REQUESTS": "too many simultaneous calls to this Zoho Desk portal (its cap is 5 to 25 by "
        "edition); retried with back-off: if it persists, run fewer Desk tasks at once (an Airflow pool)",
        "OAUTH_ORG_MISMATCH": "the access token is not valid for the connection's desk_org_id; check it "
        "against ZohoDeskHook().list_organizations()",
        "SCOPE_MISMATCH": f"the refresh token lacks a Zoho Desk scope; it needs {SCOPES}",
    }
    final_error_codes = frozenset({"THRESHOLD_EXCEEDED"})

    def __init__(self, zoho_conn_id: str = ZohoOAuthHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(zoho_conn_id=zoho_conn_id, **kwargs)
        #: Desk calls answered so far by this hook (retried attempts not counted).
        self.api_calls = 0

    # -- public API ---------------------------------------------------------------------------------------

    def list_organizations(self) -> list[dict[str, Any]]:
        """
        The organizations (portals) the token's user belongs to; needs no ``desk_org_id``.

        :return: records of ``ORGANIZATIONS`` (``id`` as text: compare it with ``desk_org_id``).
        """
        body = self._get(ORGANIZATIONS, {}, {})
        return ORGANIZATIONS.mapper.map_rows(self._rows(ORGANIZATIONS, body))

    def iter_records(
        self, resource: str, modified_from: Any = None, modified_to: Any = None, **params: Any
    ) -> Iterator[dict[str, Any]]:
        """
        Stream the records of ``resource``, fetching one page at a time.

        Every argument and the connection's ``desk_org_id`` are checked here, before any request (a
        ``ZohoConfigError`` naming what is wrong), although the records are only fetched as the iterator
        is consumed.

        :param resource: ``tickets`` or ``contacts`` (incremental: the records modified in
            ``[modified_from, modified_to)``), ``departments`` or ``agents`` (full snapshots: the window
            is ignored).
        :param modified_from: the window's first instant, inclusive: an aware ``datetime`` or an ISO-8601
            string with a zone (``2024-03-10T05:00:00Z``).
        :param modified_to: the window's end, exclusive, likewise.
        :param params: other query parameters of the Desk endpoint (``departmentId``...).
        :return: an iterator of records (dicts) with the declared columns of the resource; tickets and
            contacts in ``(modified_time, id)`` order.
        """
        spec = resource_named(resource)
        query = _checked_params(params)
        window = _window_ms(resource, modified_from, modified_to) if spec.incremental else None
        headers = self._org_headers()
        return self._stream(spec, window, query, headers)

    def check_access(self) -> tuple[bool, str] | None:
        """
        Zoho Desk's part of ``test_connection``: the connection's organization is listed, and readable.

        Desk lists every organization of the user, but a token is bound to one: one department is read
        with the ``orgId`` header, which also proves the ``Desk.basic.READ`` scope.
        """
        org_id = self.settings.desk_org_id
        if org_id is None:
            return None
        organizations = self.list_organizations()
        match = next((org for org in organizations if org["id"] == org_id), None)
        if match is None:
            listed = ", ".join(str(org["id"]) for org in organizations) or "none"
            return False, (
                f"Zoho Desk organization {org_id} is not among the organizations this account belongs to "
                f"({listed}); set the connection's desk_org_id to one of them."
            )
        departments = RESOURCES["departments"]
        try:
            self._get(departments, {"from": str(self.list_from_base), "limit": "1"}, self._org_headers())
        except ZohoAPIError as error:
            return False, f"Zoho Desk organization {org_id} is listed, but reading it failed: {error}"
        return True, f"Zoho Desk organization {org_id} ({match.get('company_name')}) is readable."

    # -- internals ----------------------------------------------------------------------------------------

    def _org_headers(self) -> dict[str, str]:
        org_id = self.settings.desk_org_id
        if org_id is None:
            raise ZohoConfigError(
                f"Zoho connection {self.zoho_conn_id!r}: Zoho Desk calls need the extra field desk_org_id "
                "(digits), sent as the orgId header. Desk shows it under Setup, Developer Space, API; "
                "ZohoDeskHook().list_organizations() lists the ids this account can read."
            )
        return {"orgId": org_id}

    def _get(self, spec: DeskResource, params: dict[str, str], headers: dict[str, str]) -> Any:
        url = f"{self.settings.desk_url}{API_ROOT}{spec.path}"
        body = self.request_json("GET", url, params=params, headers=headers)
        self.api_calls += 1
        return body

    def _rows(self, spec: DeskResource, body: Any) -> list[Any]:
        """The rows of one answer: ``{"data": [...]}`` (``"count"`` too on search), or none for HTTP 204."""
        if body is None:
            return []
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise ZohoAPIError(
                f'Zoho Desk answered {spec.name!r} without a data list: expected {{"data": [...]}} or HTTP '
                f"204, got {_snippet(body)}"
            )
        return rows

    def _stream(
        self,
        spec: DeskResource,
        window: tuple[int, int] | None,
        query: dict[str, str],
        headers: dict[str, str],
    ) -> Iterator[dict[str, Any]]:
        cursor: SearchCursor | SnapshotCursor
        if window is None:
            cursor = SnapshotCursor(spec.name, self.page_limit, self.list_from_base)
        else:
            self._wait_for_search_index(window[1])
            cursor = SearchCursor(spec.name, *window, self.page_limit, self.search_max_results)
        records = pages = 0
        started = last_report = time.monotonic()
        more = True
        while more:
            body = self._get(spec, {**query, **cursor.params}, headers)
            kept, more = cursor.advance(self._rows(spec, body))
            page = spec.mapper.map_rows(kept)
            records += len(page)
            pages += 1
            yield from page
            now = time.monotonic()
            if now - last_report >= self.progress_interval:
                last_report = now
                log.info("Desk %s: %d records from %d pages so far.", spec.name, records, pages)
        log.info(
            "Desk %s: %d records from %d pages in %.1f s.",
            spec.name,
            records,
            pages,
            time.monotonic() - started,
        )

    def _wait_for_search_index(self, end_ms: int) -> None:
        """Wait until the window ended ``search_lag_seconds`` ago; warn about a window not over yet."""
        now = time.time()
        end = end_ms / 1000
        if end > now:
            log.warning(
                "The window ends at %s, in the future: rows modified after now are not in this extraction "
                "(extract a window once it is over, or re-extract it with lookback).",
                format_ms(end_ms),
            )
            return
        wait = end + self.search_lag_seconds - now
        if wait > 0:
            log.info("Waiting %.1f s for Desk's search to index the window's last edits.", wait)
            time.sleep(wait)

    def _api_error(self, message: str, response: Response, *access_tokens: str | None) -> ZohoAPIError:
        """Desk's errors carry a ``message``: shown (scrubbed of secrets) with the mapped error."""
        body = json_or_none(response)
        said = body.get("message") if isinstance(body, dict) else None
        if isinstance(said, str) and said.strip():
            text = scrub(said.strip(), self._secrets(*access_tokens))
            message = f"{message} (Desk said {text[:300]!r})"
        return super()._api_error(message, response, *access_tokens)


def _window_ms(resource: str, modified_from: Any, modified_to: Any) -> tuple[int, int]:
    """``[modified_from, modified_to)`` as epoch milliseconds (each bound rounded up to a whole ms)."""
    if modified_from is None or modified_to is None:
        raise ZohoConfigError(
            f"{resource} are read by modification time: give modified_from and modified_to, the window "
            "[modified_from, modified_to) as aware datetimes or ISO-8601 strings with a zone."
        )
    start = parse_instant(modified_from, "modified_from")
    end = parse_instant(modified_to, "modified_to")
    if end <= start:
        raise ZohoConfigError(
            f"modified_to ({end.isoformat()}) must be after modified_from ({start.isoformat()}): the window "
            "[modified_from, modified_to) is half-open."
        )
    return -((_EPOCH - start) // _MS), -((_EPOCH - end) // _MS)


def _checked_params(params: dict[str, Any]) -> dict[str, str]:
    """``**params`` as query parameters: text, numbers or booleans under names the hook does not set."""
    clash = sorted(set(params) & RESERVED_PARAMS)
    if clash:
        raise ZohoConfigError(
            f"{', '.join(clash)} cannot be passed to ZohoDeskHook.iter_records: the hook sets them itself "
            "(the window through modified_from/modified_to)."
        )
    query = {}
    for name, value in params.items():
        if isinstance(value, bool):
            query[name] = "true" if value else "false"
        elif isinstance(value, (str, int)):
            query[name] = str(value)
        elif value is not None:
            raise ZohoConfigError(
                f"the Desk query parameter {name} must be text, a number or a boolean, got "
                f"{type(value).__name__}."
            )
    return query
