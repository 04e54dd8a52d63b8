"""
The Zoho Apptics resource catalog: what can be extracted, how it is requested and how answers are read.

Pure (no HTTP, no Airflow hook) so that :class:`~airflow_provider_zoho.hooks.apptics.AppticsHook` and the
deferrable trigger share it. The contract it implements is ``docs/apptics-resources.md``:

- :data:`RESOURCES` maps every resource name to a :class:`Resource` (path, filters, paging, parser);
- :func:`plan_calls` validates every argument before any request is made and returns the
  :class:`ApiCall` list (one call, or one per chunk of at most 60 days for ``event_device_counts``);
- :func:`parse_page` turns one response body into tidy records and says whether the page was full,
  i.e. whether the next ``offset`` must be fetched.

Typical use::

    for call in plan_calls("crashes", "2024-03-01", "2024-03-31", platforms="iOS"):
        offset = 0
        while True:
            body = http_get(call.path, params=call.page_params(offset))
            page = parse_page(call, body)
            yield from page.records
            if not (call.paged and page.full):
                break
            offset += PAGE_LIMIT
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoConfigError
from airflow_provider_zoho.hooks.apptics_normalize import (
    RowMapper,
    ValueConversionError,
    _snippet,
    api_date_to_iso,
    format_api_date,
    snake_case,
    to_count,
    to_id,
    to_temporal,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    Parser = Callable[["ApiCall", Any], "list[dict[str, Any]]"]
    Containers = Callable[[Any], Iterable[Any]]

__all__ = [
    "API_ROOT",
    "GROUP_ENTITIES",
    "MAX_APP_VERSIONS",
    "MAX_GROUP_ENTITIES",
    "MAX_PLATFORMS",
    "PAGE_LIMIT",
    "PLATFORMS",
    "RESOURCES",
    "ApiCall",
    "Page",
    "Resource",
    "parse_date",
    "parse_page",
    "plan_calls",
]

#: Path prefix of every Apptics call; :attr:`ApiCall.path` is relative to it.
API_ROOT = "/cx/api/v1"
#: Rows per page (``limit``); the API rejects more.
PAGE_LIMIT = 500
#: Apptics platform names, case-sensitive as the API expects them.
PLATFORMS = ("iOS", "Android", "macOS", "tvOS", "watchOS", "Windows")
MAX_PLATFORMS = 5
MAX_APP_VERSIONS = 10
MAX_GROUP_ENTITIES = 3
#: Group entities every multigroup resource takes; ``screens`` adds ``screen``, ``api_stats`` adds ``api``.
GROUP_ENTITIES = ("date", "platform", "bundle", "country", "appversion", "devicetype")

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CRASH_ID = re.compile(r"[A-Za-z0-9_-]+")
_ENVELOPE_META = frozenset({"status", "message", "code", "userParams"})
_MODES = {0: "0", 1: "1", "0": "0", "1": "1"}


@dataclass(frozen=True)
class Page:
    """
    The records of one response page.

    :param records: the tidy records, in the order the API sent the rows.
    :param full: ``True`` when a row container of the page held ``limit`` entries, so the next ``offset``
        must be fetched; always ``False`` for resources that are not paged and for empty bodies.
    """

    records: list[dict[str, Any]]
    full: bool


@dataclass(frozen=True)
class Resource:
    """
    One Apptics resource of the catalog.

    :param name: the resource name users pass (``crashes``).
    :param path: the path under :data:`API_ROOT`; may contain ``{crash_id}``.
    :param parse: ``parse(call, decoded_json) -> records``; see :func:`parse_page`.
    :param envelope: what the API's answer looks like, for error messages.
    :param fields: the record fields in record order (empty for multigroup resources, whose fields are
        the requested group entities then ``count``; see :attr:`ApiCall.fields`).
    :param paged: whether the resource is fetched page by page with ``limit``/``offset``.
    :param dated: whether the resource takes ``startdate``/``enddate`` (``projects`` does not).
    :param platforms: whether the ``platforms`` filter is accepted (at most :data:`MAX_PLATFORMS`).
    :param max_app_versions: how many ``app_versions`` a call takes; 0 when the filter is not accepted.
    :param mode: whether ``mode`` (0 development, 1 production) is accepted.
    :param project_headers: whether calls send the ``zsoid``/``projectid`` headers.
    :param max_days: the longest window one call may cover; longer windows are split into chunks.
    :param group: the default ``group`` of a multigroup resource; empty for other resources.
    :param group_entities: the ``group`` entities a multigroup resource accepts.
    :param requires: extra parameter -> the filter argument it needs (``bundle`` needs ``platforms``).
    :param containers: the row containers of an unwrapped page (the list, each platform's list, each
        metric's count map, the outer multigroup object); a page is full when one holds ``limit`` entries.
    """

    name: str
    path: str
    parse: Parser = field(repr=False, compare=False)
    envelope: str
    fields: tuple[str, ...] = ()
    paged: bool = False
    dated: bool = True
    platforms: bool = False
    max_app_versions: int = 0
    mode: bool = False
    project_headers: bool = True
    max_days: int | None = None
    group: tuple[str, ...] = ()
    group_entities: tuple[str, ...] = ()
    requires: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    containers: Containers = field(default=lambda page: (page,), repr=False, compare=False)

    @property
    def multigroup(self) -> bool:
        """Whether the resource answers with counts nested by the requested ``group`` entities."""
        return bool(self.group)

    @property
    def needs_crash_id(self) -> bool:
        """Whether the path contains ``{crash_id}``, so a ``crash_id`` parameter is required."""
        return "{crash_id}" in self.path

    @property
    def filters(self) -> tuple[str, ...]:
        """The filter arguments the resource accepts, for messages."""
        accepted = []
        if self.platforms:
            accepted.append("platforms")
        if self.max_app_versions:
            accepted.append("app_versions")
        if self.mode:
            accepted.append("mode")
        if self.needs_crash_id:
            accepted.append("crash_id")
        if self.multigroup:
            accepted.append("group")
        return tuple(accepted)


@dataclass(frozen=True)
class ApiCall:
    """
    One planned Apptics call (fetched page by page when :attr:`paged`).

    :param resource: the resource it reads.
    :param path: the formatted path under :data:`API_ROOT` (``/crash/7340000000123007/osversion``).
    :param params: the query parameters as strings, without ``limit``/``offset`` (treat as read-only;
        :meth:`page_params` returns a fresh dict per page).
    :param paged: whether to fetch it page by page; see :meth:`page_params`.
    :param window_start: the first day the call covers (inclusive); ``None`` for undated resources.
    :param window_end: the last day the call covers (inclusive); ``None`` for undated resources.
    :param crash_id: the crash id of the ``/crash/{crash_id}/...`` resources, copied into their records.
    :param group: the group entities of a multigroup resource, in nesting order.
    """

    resource: Resource
    path: str
    params: dict[str, str]
    paged: bool
    window_start: date | None = None
    window_end: date | None = None
    crash_id: str | None = None
    group: tuple[str, ...] = ()

    @property
    def project_headers(self) -> bool:
        """Whether the call sends the ``zsoid``/``projectid`` headers."""
        return self.resource.project_headers

    @property
    def fields(self) -> tuple[str, ...]:
        """The record fields, in order (unknown keys the API may add follow them)."""
        if self.resource.multigroup:
            return (*self.group, "count")
        return self.resource.fields

    def page_params(self, offset: int = 0, limit: int = PAGE_LIMIT) -> dict[str, str]:
        """
        Return the query parameters of one page.

        :param offset: the index of the first row, from 0 stepping by ``limit``.
        :param limit: the rows per page (at most :data:`PAGE_LIMIT`).
        :return: :attr:`params` plus ``limit`` and ``offset`` when the call is paged.
        """
        if not self.paged:
            return dict(self.params)
        return {**self.params, "limit": str(limit), "offset": str(offset)}


# --------------------------------------------------------------------------------------------------------
# Planning and validation
# --------------------------------------------------------------------------------------------------------


def parse_date(value: date | datetime | str, argument: str) -> date:
    """
    Read a window bound.

    :param value: a ``date``, a ``datetime`` (its date is used) or an ISO ``YYYY-MM-DD`` string.
    :param argument: the argument name, for the error message.
    :return: the date.
    :raises ZohoConfigError: if ``value`` is none of these.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ZohoConfigError(
        f"{argument}: expected a date, a datetime or an ISO 'YYYY-MM-DD' string, got {value!r}"
    )


def _resolve_resource(resource: str | Resource) -> Resource:
    if isinstance(resource, Resource):
        return resource
    found = RESOURCES.get(resource) if isinstance(resource, str) else None
    if found is None:
        raise ZohoConfigError(
            f"resource: {resource!r} is not an Apptics resource; choose one of: {', '.join(RESOURCES)}"
        )
    return found


def _split_list(value: Any, argument: str) -> list[str]:
    """Read a list/tuple or comma-separated string of names; blanks are dropped, order and repeats kept."""
    if isinstance(value, str):
        items: Iterable[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ZohoConfigError(
            f"{argument}: expected a list or a comma-separated string, got {type(value).__name__} {value!r}"
        )
    names: list[str] = []
    for item in items:
        if isinstance(item, float):
            raise ZohoConfigError(
                f"{argument}: {item!r} is a float; pass names as strings ('1.10' and '1.1' differ)"
            )
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise ZohoConfigError(f"{argument}: expected strings, got {type(item).__name__} {item!r}")
        names.extend(part.strip() for part in str(item).split(",") if part.strip())
    return names


def _reject(resource: Resource, argument: str) -> ZohoConfigError:
    takes = ", ".join(resource.filters) or "no filters"
    return ZohoConfigError(
        f"{argument}: resource {resource.name!r} does not take {argument}; remove it (it takes: {takes})"
    )


def _platforms_param(resource: Resource, platforms: Any) -> str | None:
    if platforms is None:
        return None
    names = list(dict.fromkeys(_split_list(platforms, "platforms")))
    if not names:
        return None
    if not resource.platforms:
        raise _reject(resource, "platforms")
    for name in names:
        if name not in PLATFORMS:
            raise ZohoConfigError(
                f"platforms: {name!r} is not an Apptics platform; use {', '.join(PLATFORMS)} (case-sensitive)"
            )
    if len(names) > MAX_PLATFORMS:
        raise ZohoConfigError(
            f"platforms: at most {MAX_PLATFORMS} platforms per call, got {len(names)} "
            f"({', '.join(names)}); pass fewer"
        )
    return ",".join(names)


def _app_versions_param(resource: Resource, app_versions: Any) -> str | None:
    if app_versions is None:
        return None
    names = list(dict.fromkeys(_split_list(app_versions, "app_versions")))
    if not names:
        return None
    if not resource.max_app_versions:
        raise _reject(resource, "app_versions")
    if len(names) > resource.max_app_versions:
        raise ZohoConfigError(
            f"app_versions: resource {resource.name!r} takes at most {resource.max_app_versions} app "
            f"version{'s' if resource.max_app_versions > 1 else ''} per call, got {len(names)} "
            f"({', '.join(names)}); pass fewer"
        )
    return ",".join(names)


def _mode_param(resource: Resource, mode: Any) -> str | None:
    if mode is None:
        return None
    if not resource.mode:
        raise _reject(resource, "mode")
    sent = None
    if isinstance(mode, (int, str)) and not isinstance(mode, bool):
        sent = _MODES.get(mode.strip() if isinstance(mode, str) else mode)
    if sent is None:
        raise ZohoConfigError(f"mode: expected 0 (development) or 1 (production), got {mode!r}")
    return sent


def _group_param(resource: Resource, group: Any) -> tuple[str, ...]:
    if group is None:
        return resource.group
    entities = [entity.lower() for entity in _split_list(group, "group")]
    if len(set(entities)) != len(entities):
        raise ZohoConfigError(f"group: {group!r} names an entity twice; name each entity once")
    if not 1 <= len(entities) <= MAX_GROUP_ENTITIES:
        raise ZohoConfigError(
            f"group: resource {resource.name!r} takes 1 to {MAX_GROUP_ENTITIES} group entities, "
            f"got {len(entities)} ({group!r})"
        )
    for entity in entities:
        if entity not in resource.group_entities:
            raise ZohoConfigError(
                f"group: {entity!r} is not a group entity of resource {resource.name!r}; "
                f"choose from {', '.join(resource.group_entities)}"
            )
    return tuple(entities)


def _crash_id_param(resource: Resource, crash_id: Any) -> str | None:
    if not resource.needs_crash_id:
        if crash_id is not None:
            raise _reject(resource, "crash_id")
        return None
    if crash_id is None:
        raise ZohoConfigError(
            f"crash_id: resource {resource.name!r} needs the crash's id (the UniqueMessageID of a "
            "'crashes' record); pass crash_id=..."
        )
    text = (
        str(crash_id).strip() if isinstance(crash_id, (str, int)) and not isinstance(crash_id, bool) else ""
    )
    if not _CRASH_ID.fullmatch(text):
        raise ZohoConfigError(
            f"crash_id: expected a crash id of letters, digits, '-' or '_' (the UniqueMessageID of a "
            f"'crashes' record), got {crash_id!r}"
        )
    return text


_RESERVED_PARAMS = {
    "limit": "paging is the catalog's job (limit=500, offset stepping by limit); remove it",
    "offset": "paging is the catalog's job (limit=500, offset stepping by limit); remove it",
    "startdate": "pass the window as start_date/end_date instead",
    "enddate": "pass the window as start_date/end_date instead",
    "platform": "pass platforms=... instead",
    "appversion": "pass app_versions=... instead",
    "responseformat": "multigroup resources are always read as nestedjson; remove it",
}


def _param_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (list, tuple)) and all(
        isinstance(item, (str, int)) and not isinstance(item, bool) for item in value
    ):
        return ",".join(str(item) for item in value)
    raise ZohoConfigError(
        f"{name}: expected a string, a number, a boolean or a list of strings, got "
        f"{type(value).__name__} {value!r}"
    )


def plan_calls(
    resource: str | Resource,
    start_date: date | datetime | str | None,
    end_date: date | datetime | str | None,
    *,
    platforms: Iterable[str] | str | None = None,
    app_versions: Iterable[str] | str | None = None,
    mode: int | str | None = None,
    **params: Any,
) -> list[ApiCall]:
    """
    Validate an extraction request and plan its Apptics calls; nothing is requested.

    :param resource: a name of :data:`RESOURCES` (or a :class:`Resource`).
    :param start_date: first day, inclusive: ``date``, ``datetime`` or ISO ``YYYY-MM-DD``; ``None`` only
        for resources that take no dates (``projects``, which ignores any dates given).
    :param end_date: last day, inclusive, same forms; not before ``start_date``.
    :param platforms: list/tuple or comma string of :data:`PLATFORMS` (at most 5), sent as ``platform``.
    :param app_versions: list/tuple or comma string (at most 10, or 1 for ``crash_detail`` and
        ``crash_issue_counts_by_date``), sent as ``appversion``.
    :param mode: ``0`` (development) or ``1`` (production).
    :param params: ``crash_id`` for the ``/crash/{crash_id}/...`` resources, ``group`` (list or comma
        string, 1 to 3 entities) for multigroup resources, anything else (``timezone``, ``bundle``,
        ``screenname``...) passed through as a query parameter; ``None`` values are dropped.
    :return: the calls in order: one, or one per chunk of at most ``max_days`` days.
    :raises ZohoConfigError: naming the argument, for anything the API would reject or misread.
    """
    spec = _resolve_resource(resource)
    crash_id = _crash_id_param(spec, params.pop("crash_id", None))
    group_arg = params.pop("group", None)
    if group_arg is not None and not spec.multigroup:
        raise _reject(spec, "group")
    group = _group_param(spec, group_arg) if spec.multigroup else ()

    query: dict[str, str] = {}
    window: tuple[date, date] | None = None
    if spec.dated:
        if start_date is None or end_date is None:
            missing = "start_date" if start_date is None else "end_date"
            raise ZohoConfigError(
                f"{missing}: resource {spec.name!r} needs a window; pass start_date and end_date "
                "(inclusive dates)"
            )
        window = (parse_date(start_date, "start_date"), parse_date(end_date, "end_date"))
        if window[1] < window[0]:
            raise ZohoConfigError(
                f"end_date: {window[1].isoformat()} is before start_date {window[0].isoformat()}; "
                "both bounds are inclusive, so a one-day window has end_date == start_date"
            )
    else:
        for argument, value in (("start_date", start_date), ("end_date", end_date)):
            if value is not None:
                parse_date(value, argument)

    platform = _platforms_param(spec, platforms)
    if platform is not None:
        query["platform"] = platform
    appversion = _app_versions_param(spec, app_versions)
    if appversion is not None:
        query["appversion"] = appversion
    sent_mode = _mode_param(spec, mode)
    if sent_mode is not None:
        query["mode"] = sent_mode
    if group:
        query["group"] = ",".join(group)
        query["responseformat"] = "nestedjson"

    for name, value in params.items():
        if value is None:
            continue
        hint = _RESERVED_PARAMS.get(name.lower())
        if hint is not None:
            raise ZohoConfigError(f"{name}: {hint}")
        query[name] = _param_value(name, value)
    given = {"platforms": platform, "app_versions": appversion, "mode": sent_mode}
    for name, needed in spec.requires.items():
        if name in query and given.get(needed) is None:
            raise ZohoConfigError(
                f"{name}: resource {spec.name!r} only takes {name} together with {needed}; "
                f"pass {needed}=... too"
            )

    path = spec.path.format(crash_id=crash_id) if crash_id is not None else spec.path
    if window is None:
        return [ApiCall(spec, path, query, spec.paged, crash_id=crash_id, group=group)]
    calls = []
    for chunk_start, chunk_end in _chunks(window[0], window[1], spec.max_days):
        chunk_query = {
            "startdate": format_api_date(chunk_start),
            "enddate": format_api_date(chunk_end),
            **query,
        }
        calls.append(
            ApiCall(
                spec,
                path,
                chunk_query,
                spec.paged,
                window_start=chunk_start,
                window_end=chunk_end,
                crash_id=crash_id,
                group=group,
            )
        )
    return calls


def _chunks(start: date, end: date, max_days: int | None) -> list[tuple[date, date]]:
    if max_days is None:
        return [(start, end)]
    chunks = []
    step = timedelta(days=max_days - 1)
    while start <= end:
        chunk_end = min(start + step, end)
        chunks.append((start, chunk_end))
        start = chunk_end + timedelta(days=1)
    return chunks


# --------------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------------


def parse_page(call: ApiCall, body: bytes | str | Any, limit: int = PAGE_LIMIT) -> Page:
    """
    Turn one Apptics response body into tidy records.

    Envelopes are unwrapped (``data``, ``result``, ``data.result``, bare lists, platform-keyed objects),
    keys are snake_cased and mapped to the record fields of ``docs/apptics-resources.md``, counts become
    ``int``, ids ``str``, epoch milliseconds ``YYYY-MM-DDTHH:MM:SSZ`` and ``dd-MM-yyyy`` dates
    ``YYYY-MM-DD``; unknown keys follow the known fields, snake_cased, in the order the API sent them.

    :param call: the call the body answers (gives the resource, ``crash_id``, group and window).
    :param body: the raw body (``bytes`` or ``str``), or the already decoded JSON; an empty body (HTTP
        204) or ``None`` gives no records.
    :param limit: the ``limit`` the page was requested with; a row container holding that many entries
        makes the page full.
    :return: the records and whether the page was full.
    :raises ZohoAPIError: if the body is not JSON, is an error answer, or has a shape the resource never
        sends (the message names the resource and the expected envelope).
    """
    resource = call.resource
    if limit < 1:
        raise ValueError(f"limit must be a positive number of rows, got {limit!r}")
    data = body
    if isinstance(body, (bytes, bytearray, str)):
        if not body.strip():
            return Page([], False)
        try:
            data = json.loads(body)
        except ValueError:
            raise ZohoAPIError(
                f"Apptics resource {resource.name!r} answered with a body that is not valid JSON "
                f"(expected {resource.envelope}): {_snippet(body)}"
            ) from None
    if _is_empty(data):
        return Page([], False)
    if type(data) is dict:
        _raise_for_error_body(resource, data)
    try:
        records = resource.parse(call, data)
    except ValueConversionError as err:
        raise ZohoAPIError(f"Apptics resource {resource.name!r}: unusable value ({err})") from None
    return Page(records, page_is_full(call, data, limit))


def page_is_full(call: ApiCall, data: Any, limit: int = PAGE_LIMIT) -> bool:
    """
    Whether the next ``offset`` must be fetched: one row container of the page holds ``limit`` entries.

    Cheap (no normalization), so a caller can request the next page before it normalizes this one.

    :param call: the call the page answers.
    :param data: the decoded JSON body (``None`` for an empty body).
    :param limit: the ``limit`` the page was requested with.
    """
    if not call.paged:
        return False
    page = _unwrap(data)
    if type(page) not in (list, dict):
        return False
    return any(type(rows) in (list, dict) and len(rows) >= limit for rows in call.resource.containers(page))


def _is_empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _raise_for_error_body(resource: Resource, data: dict[str, Any]) -> None:
    error = data.get("error")
    status = data.get("status")
    bare_code = "code" in data and data.keys() <= {"code", "message", "status"}
    if not error and status not in ("failure", "error") and not bare_code:
        return
    code = None
    message = None
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
    elif isinstance(error, str):
        code = error
    if code is None and data.get("code") is not None:
        code = data.get("code")
    message = message or data.get("message")
    raise ZohoAPIError(
        f"Apptics resource {resource.name!r} answered with an error: {message or _snippet(data)}",
        code=str(code) if code is not None else None,
    )


def _unwrap(data: Any) -> Any:
    """Strip the ``data`` and ``result`` envelopes (and their ``status``/``userParams`` siblings)."""
    if type(data) is dict and "data" in data and data.keys() - {"data"} <= _ENVELOPE_META:
        data = data["data"]
    if type(data) is dict and "result" in data and data.keys() - {"result"} <= _ENVELOPE_META:
        data = data["result"]
    return data


def _shape_error(call: ApiCall, found: Any, where: str = "") -> ZohoAPIError:
    place = f" at {where}" if where else ""
    return ZohoAPIError(
        f"Apptics resource {call.resource.name!r} answered with an unexpected shape{place}: expected "
        f"{call.resource.envelope}, got {type(found).__name__} {_snippet(found)}"
    )


# Field conversions -------------------------------------------------------------------------------------

_ID_FIELDS = ("crash_id", "platform_id", "app_version_id", "device_id", "user_id", "portal_id", "project_id")
_COUNT_FIELDS = (
    "crash_count",
    "device_count",
    "user_count",
    "issue_count",
    "previous_crash_count",
    "previous_issue_count",
    "previous_device_count",
    "previous_user_count",
    "active_devices",
    "event_count",
    "count",
)
_TEMPORAL_FIELDS = ("bucket_start", "happened_at", "session_start_time", "date")
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    **dict.fromkeys(_ID_FIELDS, to_id),
    **dict.fromkeys(_COUNT_FIELDS, to_count),
    **dict.fromkeys(_TEMPORAL_FIELDS, to_temporal),
}


def _mapper(
    name: str, fields: tuple[str, ...], key_map: Mapping[str, str], context: tuple[str, ...] = ()
) -> RowMapper:
    converters = {f: _CONVERTERS[f] for f in fields if f in _CONVERTERS and f not in context}
    return RowMapper(name, fields, key_map, converters, context_fields=context)


# Row lists ---------------------------------------------------------------------------------------------


def _row_list_parser(mapper: RowMapper, context: str | None = None) -> Parser:
    """Parse ``[row...]`` / ``{"data": [row...]}``; ``context`` names a field filled from the call."""

    def parse(call: ApiCall, data: Any) -> list[dict[str, Any]]:
        rows = _unwrap(data)
        if _is_empty(rows):
            return []
        if type(rows) is not list:
            raise _shape_error(call, rows)
        records = mapper.map_rows(rows)
        if context == "crash_id":
            for record in records:
                record["crash_id"] = call.crash_id
        return records

    return parse


def _platform_lists_parser(mapper: RowMapper) -> Parser:
    """Parse ``{"data": {"result": {platform: [row...]}}}``."""

    def parse(call: ApiCall, data: Any) -> list[dict[str, Any]]:
        result = _unwrap(data)
        if _is_empty(result):
            return []
        if type(result) is not dict:
            raise _shape_error(call, result)
        records = []
        for platform, rows in result.items():
            if _is_empty(rows):
                continue
            if type(rows) is not list:
                raise _shape_error(call, rows, f"platform {platform!r}")
            mapped = mapper.map_rows(rows)
            for record in mapped:
                record["platform"] = platform
            records.extend(mapped)
        return records

    return parse


def _parse_crash_detail(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    detail = _unwrap(data)
    if _is_empty(detail):
        return []
    rows = detail if type(detail) is list else [detail]
    records = []
    for row in rows:
        if type(row) is not dict:
            raise _shape_error(call, row)
        record = _CRASH_DETAIL(row)
        if record["crash_id"] is None:
            record["crash_id"] = call.crash_id
        records.append(record)
    return records


# Count maps --------------------------------------------------------------------------------------------

_COUNT_MAP_KEYS = MappingProxyType(
    {
        "crashcount": "crash_count",
        "crashecount": "crash_count",
        "devicecount": "device_count",
        "deviceschart": "device_count",
        "usercount": "user_count",
        "userschart": "user_count",
        "issuecount": "issue_count",
        "issueschart": "issue_count",
    }
)
_METRICS = ("crash_count", "device_count", "user_count", "issue_count")


def _metric_maps(
    call: ApiCall,
    metrics: Any,
    lead: dict[str, Any],
    mapper: RowMapper,
    records: list[dict[str, Any]],
    where: str,
) -> None:
    """Merge ``{metric: {bucket: n}}`` into one record per bucket, appended to ``records``."""
    if _is_empty(metrics):
        return
    if type(metrics) is not dict:
        raise _shape_error(call, metrics, where)
    buckets: dict[str, dict[str, Any]] = {}
    blank = dict.fromkeys(_METRICS)
    extras: list[str] = []
    for (metric, counts), name in zip(metrics.items(), mapper.field_names(metrics), strict=True):
        if _is_empty(counts):
            continue
        if type(counts) is not dict:
            raise _shape_error(call, counts, f"{where} metric {metric!r}".lstrip())
        known = name in blank
        if not known:
            extras.append(name)
        for key, value in counts.items():
            record = buckets.get(key)
            if record is None:
                record = buckets[key] = {**lead, "bucket_start": to_temporal(key), **blank}
            record[name] = to_count(value) if known else value
    if extras:
        order = {**lead, "bucket_start": None, **blank, **dict.fromkeys(extras)}
        records.extend({**order, **record} for record in buckets.values())
    else:
        records.extend(buckets.values())


def _without_platform_level(result: dict[str, Any]) -> bool:
    """Metric maps without the platform level (a single platform answered unwrapped)."""
    return any(snake_case(key) in _COUNT_MAP_KEYS for key in result)


def _parse_crash_counts_by_date(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    result = _unwrap(data)
    if _is_empty(result):
        return []
    if type(result) is not dict:
        raise _shape_error(call, result)
    records: list[dict[str, Any]] = []
    if _without_platform_level(result):
        _metric_maps(call, result, {"platform": None}, _COUNTS_BY_DATE, records, "")
        return records
    for platform, metrics in result.items():
        _metric_maps(
            call, metrics, {"platform": platform}, _COUNTS_BY_DATE, records, f"platform {platform!r}"
        )
    return records


def _per_platform_count_maps(page: Any) -> Iterable[Any]:
    if type(page) is not dict:
        return ()
    if _without_platform_level(page):
        return page.values()
    return (counts for metrics in page.values() if type(metrics) is dict for counts in metrics.values())


def _parse_crash_issue_counts_by_date(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    result = _unwrap(data)
    if _is_empty(result):
        return []
    records: list[dict[str, Any]] = []
    _metric_maps(call, result, {"crash_id": call.crash_id}, _ISSUE_COUNTS_BY_DATE, records, "")
    return records


def _values(page: Any) -> Iterable[Any]:
    """The containers of a page keyed by platform or metric: its values."""
    return page.values() if type(page) is dict else ()


def _parse_crash_summary(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    summary = _unwrap(data)
    if _is_empty(summary):
        return []
    if type(summary) is not dict:
        raise _shape_error(call, summary)
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if type(value) is dict and snake_case(key) in ("crashcount", "precrashcount"):
            for inner, count in value.items():
                flat[f"{key} {inner}"] = count
        else:
            flat[key] = value
    return [_CRASH_SUMMARY(flat)]


def _parse_country_counts(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    result = _unwrap(data)
    if _is_empty(result):
        return []
    if type(result) is not dict:
        raise _shape_error(call, result)
    return [{"country": country, "event_count": to_count(count)} for country, count in result.items()]


def _parse_event_device_counts(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    result = _unwrap(data)
    if _is_empty(result):
        return []
    if type(result) is not dict:
        raise _shape_error(call, result)
    window_start = call.window_start.isoformat() if call.window_start else None
    window_end = call.window_end.isoformat() if call.window_end else None
    records = []
    for key, count in result.items():
        name, group = key, None
        cut = key.rfind("(")
        if cut > 0 and key.endswith(")"):
            name, group = key[:cut], key[cut + 1 : -1]
        records.append(
            {
                "window_start": window_start,
                "window_end": window_end,
                "event_name": name,
                "event_group": group,
                "device_count": to_count(count),
            }
        )
    return records


def _parse_multigroup(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    result = _unwrap(data)
    if _is_empty(result):
        return []
    if type(result) is not dict:
        raise _shape_error(call, result)
    group = call.group or call.resource.group
    fields = (*group, "count")
    last = len(group) - 1
    dates = tuple(entity == "date" for entity in group)
    records: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], level: int, prefix: tuple[Any, ...]) -> None:
        for key, value in node.items():
            values = (*prefix, api_date_to_iso(key) if dates[level] else key)
            if level == last:
                if type(value) in (dict, list):
                    raise _nesting_error(call, group, value, values)
                records.append(dict(zip(fields, (*values, to_count(value)), strict=True)))
            elif type(value) is dict:
                walk(value, level + 1, values)
            else:
                raise _nesting_error(call, group, value, values)

    walk(result, 0, ())
    return records


def _nesting_error(call: ApiCall, group: tuple[str, ...], found: Any, at: tuple[Any, ...]) -> ZohoAPIError:
    return ZohoAPIError(
        f"Apptics resource {call.resource.name!r} answered with an unexpected shape at "
        f"{' > '.join(map(str, at))}: expected counts nested {len(group)} level(s) deep in group order "
        f"({', '.join(group)}), got {type(found).__name__} {_snippet(found)}"
    )


def _parse_projects(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    portals = _unwrap(data)
    if _is_empty(portals):
        return []
    if type(portals) is dict:
        portals = [portals]
    if type(portals) is not list:
        raise _shape_error(call, portals)
    records = []
    for portal in portals:
        if type(portal) is not dict:
            raise _shape_error(call, portal)
        projects = portal.get("projects") or [{}]
        if type(projects) is not list:
            raise _shape_error(call, projects, "projects")
        portal_record = _PORTAL({k: v for k, v in portal.items() if k != "projects"})
        portal_known = {name: portal_record.pop(name) for name in _PORTAL.fields}
        for project in projects:
            project_record = _PROJECT(project)
            record = {**portal_known}
            record.update((name, project_record.pop(name)) for name in _PROJECT.fields)
            for name, value in portal_record.items():
                record[f"portal_{name}" if name in project_record or name in record else name] = value
            record.update(project_record)
            records.append(record)
    return records


# The mappers (snake_case API key -> record field) --------------------------------------------------------

_PORTAL = _mapper("projects", ("portal_id", "portal_name"), {"zsoid": "portal_id"})
_PROJECT = _mapper("projects", ("project_id", "project_name", "platforms"), {})
_CRASHES = _mapper(
    "crashes",
    (
        "crash_id",
        "app_version",
        "status",
        "os",
        "exception",
        "exception_type",
        "crash_count",
        "device_count",
        "user_count",
        "platform_id",
        "app_version_id",
    ),
    {
        "unique_message_id": "crash_id",
        "devices_count": "device_count",
        "users_count": "user_count",
        "pid": "platform_id",
    },
)
_CRASH_SUMMARY = _mapper(
    "crash_summary",
    (
        "crash_count",
        "issue_count",
        "device_count",
        "user_count",
        "previous_crash_count",
        "previous_issue_count",
        "previous_device_count",
        "previous_user_count",
        "crash_free_users",
    ),
    {
        **{f"crashcount_{key}": name for key, name in _COUNT_MAP_KEYS.items()},
        **{f"precrashcount_{key}": f"previous_{name}" for key, name in _COUNT_MAP_KEYS.items()},
        "crashfreeusers": "crash_free_users",
    },
)
_COUNTS_BY_DATE = _mapper(
    "crash_counts_by_date",
    ("platform", "bucket_start", *_METRICS),
    _COUNT_MAP_KEYS,
    context=("platform", "bucket_start"),
)
_ISSUE_COUNTS_BY_DATE = _mapper(
    "crash_issue_counts_by_date",
    ("crash_id", "bucket_start", *_METRICS),
    _COUNT_MAP_KEYS,
    context=("crash_id", "bucket_start"),
)
_CRASH_DETAIL = _mapper(
    "crash_detail",
    (
        "crash_id",
        "date",
        "happened_at",
        "session_start_time",
        "message",
        "exception",
        "issue_name",
        "os",
        "os_version",
        "model",
        "screen",
        "device_id",
        "user_id",
        "network_status",
        "battery_status",
        "platform_id",
        "app_version",
        "app_version_id",
        "app_release_version",
        "sdk_version",
        "edge",
        "custom_properties",
    ),
    {
        "unique_message_id": "crash_id",
        "happend_at": "happened_at",
        "pid": "platform_id",
        "j_analytic_version": "sdk_version",
    },
)
_CRASH_OS_VERSIONS = _mapper(
    "crash_os_versions",
    ("crash_id", "os_version", "crash_count"),
    {"count": "crash_count"},
    context=("crash_id",),
)
_CRASH_DEVICE_MODELS = _mapper(
    "crash_device_models",
    ("crash_id", "model", "crash_count"),
    {"count": "crash_count"},
    context=("crash_id",),
)
_AFFECTED_DEVICES = _mapper(
    "affected_devices",
    ("device_id", "user_id", "model", "os_version", "app_version", "happened_at", "date"),
    {"happend_at": "happened_at"},
)
_ACTIVE_DEVICES_BY_DATE = _mapper(
    "active_devices_by_date",
    ("platform", "bucket_start", "active_devices"),
    {"date": "bucket_start", "active_devices_count": "active_devices"},
    context=("platform",),
)
_EVENT_KEYS = {
    "group": "event_group",
    "events_name": "event_name",
    "events_count": "event_count",
}
_EVENT_SUMMARY = _mapper(
    "event_summary",
    ("platform", "event_group", "event_name", "event_count"),
    _EVENT_KEYS,
    context=("platform",),
)
_EVENT_COUNTS_BY_DATE = _mapper(
    "event_counts_by_date",
    ("platform", "bucket_start", "event_group", "event_name", "event_count"),
    {**_EVENT_KEYS, "date": "bucket_start"},
    context=("platform",),
)

_LIST = '{"data": [row...]} or a bare [row...]'
_PLATFORM_LISTS = '{"data": {"result": {platform: [row...]}}, "status": 200}'
_NESTED = '{"result": {...counts nested in group order...}, "status": 200}'

#: Every Apptics resource of the catalog, by name (the order of ``docs/apptics-resources.md``).
RESOURCES: Mapping[str, Resource] = MappingProxyType(
    {
        resource.name: resource
        for resource in (
            Resource(
                "projects",
                "/userprojects",
                _parse_projects,
                '{"result": [portal...], "status": 200}',
                fields=("portal_id", "portal_name", "project_id", "project_name", "platforms"),
                dated=False,
                project_headers=False,
            ),
            Resource(
                "crashes",
                "/crash/list",
                _row_list_parser(_CRASHES),
                _LIST,
                fields=_CRASHES.fields,
                paged=True,
                platforms=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "crash_summary",
                "/crash/summary",
                _parse_crash_summary,
                '{"crashcount": {...}, "precrashcount": {...}, "crashfreeusers": n}',
                fields=_CRASH_SUMMARY.fields,
                platforms=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "crash_counts_by_date",
                "/crash/countbydate",
                _parse_crash_counts_by_date,
                "{platform: {metric: {epoch_ms: count}}}",
                fields=_COUNTS_BY_DATE.fields,
                paged=True,
                containers=_per_platform_count_maps,
                platforms=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "crash_issue_counts_by_date",
                "/crash/{crash_id}/countbydate",
                _parse_crash_issue_counts_by_date,
                "{metric: {epoch_ms: count}}",
                fields=_ISSUE_COUNTS_BY_DATE.fields,
                paged=True,
                containers=_values,
                max_app_versions=1,
                mode=True,
            ),
            Resource(
                "crash_detail",
                "/crash/{crash_id}/summarywithtrace",
                _parse_crash_detail,
                '{"data": {...}}',
                fields=_CRASH_DETAIL.fields,
                max_app_versions=1,
                mode=True,
            ),
            Resource(
                "crash_os_versions",
                "/crash/{crash_id}/osversion",
                _row_list_parser(_CRASH_OS_VERSIONS, context="crash_id"),
                '{"data": [row...], "status": "success"}',
                fields=_CRASH_OS_VERSIONS.fields,
                paged=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "crash_device_models",
                "/crash/{crash_id}/devicemodel",
                _row_list_parser(_CRASH_DEVICE_MODELS, context="crash_id"),
                "a bare [row...]",
                fields=_CRASH_DEVICE_MODELS.fields,
                paged=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "affected_devices",
                "/crash/affecteddevice",
                _row_list_parser(_AFFECTED_DEVICES),
                '{"data": [row...], "status": "success"}',
                fields=_AFFECTED_DEVICES.fields,
                paged=True,
                mode=True,
            ),
            Resource(
                "active_devices_by_date",
                "/activedevice/countbydate",
                _platform_lists_parser(_ACTIVE_DEVICES_BY_DATE),
                _PLATFORM_LISTS,
                fields=_ACTIVE_DEVICES_BY_DATE.fields,
                paged=True,
                containers=_values,
                platforms=True,
            ),
            Resource(
                "active_devices",
                "/activedevice/multigroup",
                _parse_multigroup,
                _NESTED,
                paged=True,
                platforms=True,
                group=("date", "platform"),
                group_entities=GROUP_ENTITIES,
            ),
            Resource(
                "event_summary",
                "/event/summary",
                _platform_lists_parser(_EVENT_SUMMARY),
                _PLATFORM_LISTS,
                fields=_EVENT_SUMMARY.fields,
                paged=True,
                containers=_values,
                platforms=True,
            ),
            Resource(
                "event_counts_by_date",
                "/event/countbydate",
                _platform_lists_parser(_EVENT_COUNTS_BY_DATE),
                _PLATFORM_LISTS,
                fields=_EVENT_COUNTS_BY_DATE.fields,
                paged=True,
                containers=_values,
                platforms=True,
            ),
            Resource(
                "event_counts_by_country",
                "/event/countrysummary",
                _parse_country_counts,
                '{"data": {"result": {country: count}, "userParams": {...}}, "status": 200}',
                fields=("country", "event_count"),
                paged=True,
                platforms=True,
            ),
            Resource(
                "event_device_counts",
                "/event/devicecount",
                _parse_event_device_counts,
                '{"result": {"name(group)": count}, "status": 200}',
                fields=("window_start", "window_end", "event_name", "event_group", "device_count"),
                paged=True,
                platforms=True,
                mode=True,
                max_days=60,
                requires=MappingProxyType({"bundle": "platforms"}),
            ),
            Resource(
                "screens",
                "/screen/multigroup",
                _parse_multigroup,
                _NESTED,
                paged=True,
                platforms=True,
                group=("date", "screen"),
                group_entities=(*GROUP_ENTITIES, "screen"),
            ),
            Resource(
                "api_stats",
                "/api/multigroup",
                _parse_multigroup,
                _NESTED,
                paged=True,
                platforms=True,
                group=("date", "api"),
                group_entities=(*GROUP_ENTITIES, "api"),
            ),
        )
    }
)
