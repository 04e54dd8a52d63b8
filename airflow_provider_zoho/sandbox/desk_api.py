"""
The sandbox's Zoho Desk API (``/api/v1/...``): authentication, the ``orgId`` header, parameters and answers.

Shapes and rules follow reference/zoho-desk.md: ``{"data": [...]}`` pages (``"count"`` too on search),
HTTP 204 with an empty body when nothing (more) matches, errors as ``{"errorCode", "message"}``, ``limit``
1..100, unknown query parameters refused with 422, the search depth cap on ``from``. What no public source
settles is a setting (:class:`DeskSettings`): the search cap (999, 4999, or ``from + limit`` <= 5000),
whether the end of ``modifiedTimeRange`` is inclusive, the base of ``from`` on the list endpoints, and a
search lag (rows modified in the last N seconds are not searchable yet).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.sandbox.desk_model import LIST_OMITS, DeskBurst, DeskModel

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_INT_RE = re.compile(r"^-?\d+$")
_SEARCH_SORTS = ("modifiedTime", "-modifiedTime", "createdTime", "-createdTime", "relevance")
_SEARCH_PARAMS = frozenset({"modifiedTimeRange", "sortBy", "from", "limit"})
_PAGE_PARAMS = frozenset({"from", "limit"})
LIST_MAX_FROM = 4999
MAX_LIMIT = 100
INVALID_OAUTH_MESSAGE = "The OAuth Token you provided is invalid."
ORG_MISMATCH_MESSAGE = "The OAuthToken is not valid for specified organization."
#: The bodies of Desk's two 429s (a fault kind each).
THRESHOLD_EXCEEDED_MESSAGE = (
    "The API credits allotted to this portal for the day have been used up. They are shared by every "
    "integration of the portal and reset daily."
)
TOO_MANY_REQUESTS_MESSAGE = "The maximum number of Concurrent API Calls that can be made has been exceeded."


def desk_error(code: str, message: str) -> dict[str, str]:
    return {"errorCode": code, "message": message}


class DeskRequestError(Exception):
    """A request Desk refuses, with its HTTP status and ``errorCode``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.body = desk_error(code, message)


def _unprocessable(message: str) -> DeskRequestError:
    return DeskRequestError(422, "UNPROCESSABLE_ENTITY", message)


@dataclass(frozen=True)
class DeskSettings:
    """
    The behaviours of Desk that public sources do not settle, as sandbox settings.

    :param search_max_from: the largest ``from`` a search accepts (999, as Zoho's specification declares;
        4999 was seen live).
    :param search_max_window: when set, ``from + limit`` must not exceed it (5000 was seen live: "Max search
        result iterable is 5000").
    :param range_end_inclusive: whether the end of ``modifiedTimeRange`` is inclusive (the start always is).
    :param list_from_base: where ``from`` starts on the list endpoints (``GET /tickets``, ``/contacts``,
        ``/departments``, ``/agents``): 0 or 1 (sources disagree; with 1, ``from=0`` answers like
        ``from=1``).
    :param search_lag_seconds: rows modified in the last this many seconds before the wall clock are not
        searchable yet (0: none).
    """

    search_max_from: int = 999
    search_max_window: int | None = None
    range_end_inclusive: bool = True
    list_from_base: int = 0
    search_lag_seconds: float = 0.0

    def changed(self, **values: Any) -> DeskSettings:
        """A copy with ``values`` applied, each checked; ``ValueError`` names a bad one."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown Desk setting(s) {', '.join(unknown)}; settings: {', '.join(sorted(known))}"
            )
        new = replace(self, **values)
        if not _whole(new.search_max_from) or new.search_max_from < 0:
            raise ValueError("search_max_from must be a whole number from 0 up")
        if new.search_max_window is not None and (
            not _whole(new.search_max_window) or new.search_max_window < 1
        ):
            raise ValueError("search_max_window must be null or a whole number from 1 up")
        if not isinstance(new.range_end_inclusive, bool):
            raise ValueError("range_end_inclusive must be true or false")
        if new.list_from_base not in (0, 1) or isinstance(new.list_from_base, bool):
            raise ValueError("list_from_base must be 0 or 1")
        lag = new.search_lag_seconds
        if isinstance(lag, bool) or not isinstance(lag, (int, float)) or not 0 <= lag <= 86_400:
            raise ValueError("search_lag_seconds must be a number of seconds from 0 to 86400")
        return new

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_time(value: str, name: str) -> int:
    """``yyyy-MM-ddTHH:mm:ss.SSSZ`` as epoch milliseconds; 422 otherwise."""
    try:
        if not _TIME_RE.match(value):
            raise ValueError(value)
        stamp = dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise _unprocessable(f"The value passed for field '{name}' is invalid.") from None
    return int(stamp.timestamp()) * 1000 + int(value[20:23])


class DeskApi:
    """
    Answers Desk requests from a :class:`~airflow_provider_zoho.sandbox.desk_model.DeskModel`.

    :param model: the data.
    :param clock: wall clock in seconds (for the search lag).
    """

    def __init__(self, model: DeskModel, clock: Callable[[], float] = time.time) -> None:
        self.model = model
        self.clock = clock
        self._routes: dict[str, Callable[[Mapping[str, str], DeskSettings, Sequence[DeskBurst]], Any]] = {
            "/organizations": self._organizations,
            "/tickets/search": lambda p, s, b: self._search("tickets", p, s, b),
            "/contacts/search": lambda p, s, b: self._search("contacts", p, s, b),
            "/tickets": lambda p, s, b: self._list("tickets", p, s, b),
            "/contacts": lambda p, s, b: self._list("contacts", p, s, b),
            "/departments": lambda p, s, b: self._snapshot(self.model.departments(), p, s),
            "/agents": lambda p, s, b: self._snapshot(self.model.agents(), p, s),
        }

    def answer(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        headers: Callable[[str], str | None],
        token_live: Callable[[str | None], bool],
        token: str | None,
        settings: DeskSettings,
        bursts: Sequence[DeskBurst],
    ) -> tuple[int, Any]:
        """
        ``(status, body)`` of one request below ``/api/v1`` (``body`` ``None``: HTTP 204, no body).

        :param path: the path after ``/api/v1``.
        :param headers: reads a request header.
        :param token_live: whether an access token is live.
        :param token: the request's access token, if any.
        """
        route = self._routes.get(path.rstrip("/") or "/")
        if route is None:
            return 404, desk_error("URL_NOT_FOUND", "The URL you have requested is not found.")
        if method != "GET":
            return 405, desk_error("METHOD_NOT_ALLOWED", "The method is not allowed for the requested URL.")
        if not token_live(token):
            return 401, desk_error("INVALID_OAUTH", INVALID_OAUTH_MESSAGE)
        try:
            if path.rstrip("/") != "/organizations":
                self._check_org(headers("orgId"))
            body = route(params, settings, bursts)
        except DeskRequestError as error:
            return error.status, error.body
        return (204, None) if body is None else (200, body)

    def _check_org(self, org_id: str | None) -> None:
        if not org_id:
            raise DeskRequestError(
                400,
                "INVALID_DATA",
                "The orgId header is missing: every Desk API call but /organizations needs it.",
            )
        if not org_id.isascii() or not org_id.isdigit():
            # Zoho answers a non-numeric orgId with an opaque server error, nothing naming orgId.
            raise DeskRequestError(500, "INTERNAL_SERVER_ERROR", "An internal server error occurred.")
        if org_id != self.model.org_id:
            raise DeskRequestError(403, "OAUTH_ORG_MISMATCH", ORG_MISMATCH_MESSAGE)

    # ------------------------------------------------------------------ parameters
    @staticmethod
    def _refuse_extra(params: Mapping[str, str], allowed: frozenset[str]) -> None:
        for name in params:
            if name not in allowed:
                raise _unprocessable(f"Extra query parameter '{name}' is present in the input.")

    @staticmethod
    def _number(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        value = int(raw) if _INT_RE.match(raw.strip()) else None
        if value is None or not low <= value <= high:
            raise _unprocessable(f"The value passed for field '{name}' exceeds the range of '{low}-{high}'")
        return value

    # ------------------------------------------------------------------ endpoints
    def _organizations(
        self, params: Mapping[str, str], settings: DeskSettings, bursts: Sequence[DeskBurst]
    ) -> Any:
        self._refuse_extra(params, frozenset())
        return {"data": self.model.organizations()}

    def _page(self, rows: list[dict[str, Any]], start: int, limit: int, **extra: Any) -> Any:
        page = rows[start : start + limit]
        return {"data": page, **extra} if page else None

    def _snapshot(self, rows: list[dict[str, Any]], params: Mapping[str, str], settings: DeskSettings) -> Any:
        self._refuse_extra(params, _PAGE_PARAMS)
        limit = self._number(params, "limit", 10, 1, MAX_LIMIT)
        base = settings.list_from_base
        start = self._number(params, "from", base, 0, LIST_MAX_FROM + base) - base
        return self._page(rows, max(start, 0), limit)

    def _list(
        self, resource: str, params: Mapping[str, str], settings: DeskSettings, bursts: Sequence[DeskBurst]
    ) -> Any:
        self._refuse_extra(params, _PAGE_PARAMS)
        limit = self._number(params, "limit", 25, 1, MAX_LIMIT)
        base = settings.list_from_base
        start = self._number(params, "from", base, 0, LIST_MAX_FROM + base) - base
        keys = sorted(self.model.keys(resource, bursts), key=lambda key: key[1])  # creation (id) order
        rows = [
            {k: v for k, v in self.model.row(resource, key).items() if k not in LIST_OMITS}
            for key in keys[max(start, 0) : max(start, 0) + limit]
        ]
        return {"data": rows} if rows else None

    def _search(
        self, resource: str, params: Mapping[str, str], settings: DeskSettings, bursts: Sequence[DeskBurst]
    ) -> Any:
        self._refuse_extra(params, _SEARCH_PARAMS)
        limit = self._number(params, "limit", 10, 1, MAX_LIMIT)
        start = self._number(params, "from", 0, 0, settings.search_max_from)
        if settings.search_max_window is not None and start + limit > settings.search_max_window:
            raise _unprocessable(f"Max search result iterable is {settings.search_max_window}")
        sort = params.get("sortBy") or "relevance"
        if sort not in _SEARCH_SORTS:
            raise _unprocessable(
                f"The value passed for field 'sortBy' is invalid; use one of {', '.join(_SEARCH_SORTS)}"
            )
        low = high = None
        if params.get("modifiedTimeRange") is not None:
            parts = params["modifiedTimeRange"].split(",")
            if len(parts) != 2:
                raise _unprocessable("The value passed for field 'modifiedTimeRange' is invalid.")
            low, high = (parse_time(part.strip(), "modifiedTimeRange") for part in parts)
            if high < low:
                raise _unprocessable("The value passed for field 'modifiedTimeRange' is invalid.")
            if not settings.range_end_inclusive:
                high -= 1
        keys = list(self.model.keys(resource, bursts, low, high))
        if settings.search_lag_seconds:
            now = int(self.clock() * 1000)
            lag = int(settings.search_lag_seconds * 1000)
            keys = [key for key in keys if not now - lag < key[0] <= now]
        keys.sort(key=_SORT_KEYS[sort](self.model))
        page = keys[start : start + limit]
        if not page:
            return None
        return {"data": [self.model.row(resource, key) for key in page], "count": len(keys)}


_SORT_KEYS: dict[str, Callable[[DeskModel], Callable[[tuple[int, int]], Any]]] = {
    "modifiedTime": lambda model: lambda key: key,
    "-modifiedTime": lambda model: lambda key: (-key[0], key[1]),  # ties: ascending id, as Desk does
    "createdTime": lambda model: lambda key: (model.created_ms(key[1], key[0]), key[1]),
    "-createdTime": lambda model: lambda key: (-model.created_ms(key[1], key[0]), key[1]),
    "relevance": lambda model: lambda key: key[1],
}
