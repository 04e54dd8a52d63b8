"""
Reading Apptics answers: one decoded response body in, tidy records out.

Pure (no HTTP, no Airflow). Every resource of :mod:`~airflow_provider_zoho.hooks.apptics_resources` names
one of the parsers below; :func:`parse_page` handles what all answers share (empty bodies, error bodies)
and :func:`page_is_full` decides, from the raw body alone, whether the next ``offset`` must be fetched.

Envelopes differ by endpoint (a bare list, ``data``, ``result``, ``data.result``, platform-keyed objects,
counts nested by group): :func:`unwrap` strips ``data`` and ``result`` when their siblings are only
envelope metadata, so every parser also accepts the other documented envelopes.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoAPIError
from airflow_provider_zoho.hooks.apptics_normalize import (
    RowMapper,
    ValueConversionError,
    api_date_to_iso,
    snake_case,
    snippet,
    to_count,
    to_id,
    to_temporal,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_zoho.hooks.apptics_planning import ApiCall

#: Keys that may sit beside ``data``/``result`` in an envelope.
ENVELOPE_META = frozenset({"status", "message", "code", "userParams"})
#: Count-map metric names as the API spells them (snake_case) -> record field; the ``*chart`` and
#: ``crashecount`` spellings are documented variants.
COUNT_MAP_KEYS = MappingProxyType(
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
#: The metrics of a count map, in record order.
METRICS = ("crash_count", "device_count", "user_count", "issue_count")


def parse_page(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """
    Turn one decoded Apptics answer into tidy records.

    Keys are snake_cased and mapped to the resource's declared columns, values normalized by column type
    (counts ``int``, ids ``str``, epoch milliseconds ``YYYY-MM-DDTHH:MM:SSZ``, ``dd-MM-yyyy`` dates
    ``YYYY-MM-DD``); unknown keys follow the declared columns, snake_cased, in the order the API sent them.

    :param call: the call the answer belongs to (gives the resource, ``crash_id``, group and window).
    :param data: the decoded JSON body; ``None`` (an empty body, HTTP 204) gives no records.
    :return: the records, in the order the API sent the rows.
    :raises ZohoAPIError: for an error answer, or a shape the resource never sends (the message names the
        resource and the expected envelope).
    """
    if is_empty(data):
        return []
    if type(data) is dict:
        raise_for_error_body(call, data)
    try:
        return call.resource.parse(call, data)
    except ValueConversionError as err:
        raise ZohoAPIError(f"Apptics resource {call.resource.name!r}: unusable value ({err})") from None


def page_is_full(call: ApiCall, data: Any, limit: int) -> bool:
    """
    Whether the next ``offset`` must be fetched: one row container of the page holds ``limit`` entries.

    Cheap (no normalization), so the next page can be requested before this one is normalized.

    :param call: the call the page answers.
    :param data: the decoded JSON body (``None`` for an empty body).
    :param limit: the ``limit`` the page was requested with.
    """
    if not call.resource.paged:
        return False
    page = unwrap(data)
    if type(page) not in (list, dict):
        return False
    return any(type(rows) in (list, dict) and len(rows) >= limit for rows in call.resource.containers(page))


def is_empty(value: Any) -> bool:
    """Whether an answer (or part of one) holds nothing: ``None``, ``[]`` or ``{}``."""
    return value is None or value == [] or value == {}


def raise_for_error_body(call: ApiCall, data: dict[str, Any]) -> None:
    """
    Raise ``ZohoAPIError`` for an error answer sent with HTTP 200.

    Zoho documents no Apptics error body, so every plausible shape counts: an ``error`` key (a code
    string or a ``{"code", "message"}`` object), a ``status`` of ``failure`` or ``error``, or a body of
    only ``code``/``message``/``status``.
    """
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
        f"Apptics resource {call.resource.name!r} answered with an error: {message or snippet(data)}",
        code=str(code) if code is not None else None,
    )


def unwrap(data: Any) -> Any:
    """Strip the ``data`` and ``result`` envelopes (and their ``status``/``userParams`` siblings)."""
    if type(data) is dict and "data" in data and data.keys() - {"data"} <= ENVELOPE_META:
        data = data["data"]
    if type(data) is dict and "result" in data and data.keys() - {"result"} <= ENVELOPE_META:
        data = data["result"]
    return data


def shape_error(call: ApiCall, found: Any, where: str = "") -> ZohoAPIError:
    """The error for an answer whose shape the resource never sends."""
    place = f" at {where}" if where else ""
    return ZohoAPIError(
        f"Apptics resource {call.resource.name!r} answered with an unexpected shape{place}: expected "
        f"{call.resource.envelope}, got {type(found).__name__} {snippet(found)}"
    )


# -- row containers: where a page keeps its rows (for page_is_full) --------------------------------------


def whole_page(page: Any) -> Iterable[Any]:
    """The page itself is the row container (a list, or the outer object of nested counts)."""
    return (page,)


def page_values(page: Any) -> Iterable[Any]:
    """The containers of a page keyed by platform or metric: its values."""
    return page.values() if type(page) is dict else ()


def per_platform_count_maps(page: Any) -> Iterable[Any]:
    """Each metric's count map of each platform (or of the page, when it has no platform level)."""
    if type(page) is not dict:
        return ()
    if _without_platform_level(page):
        return page.values()
    return (counts for metrics in page.values() if type(metrics) is dict for counts in metrics.values())


# -- parsers: parse(call, data) -> records, data non-empty and not an error body -------------------------


def row_list(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``[row...]`` or ``{"data": [row...]}``; a ``crash_id`` column is filled from the call."""
    rows = unwrap(data)
    if is_empty(rows):
        return []
    if type(rows) is not list:
        raise shape_error(call, rows)
    records = call.resource.mapper.map_rows(rows)
    if "crash_id" in call.resource.context:
        for record in records:
            record["crash_id"] = call.crash_id
    return records


def platform_lists(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``{"data": {"result": {platform: [row...]}}}``; the ``platform`` column is the key."""
    result = unwrap(data)
    if is_empty(result):
        return []
    if type(result) is not dict:
        raise shape_error(call, result)
    records = []
    for platform, rows in result.items():
        if is_empty(rows):
            continue
        if type(rows) is not list:
            raise shape_error(call, rows, f"platform {platform!r}")
        mapped = call.resource.mapper.map_rows(rows)
        for record in mapped:
            record["platform"] = platform
        records.extend(mapped)
    return records


def crash_detail(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``{"data": {...}}`` (one crash occurrence; a list of them is accepted too)."""
    detail = unwrap(data)
    if is_empty(detail):
        return []
    rows = detail if type(detail) is list else [detail]
    records = []
    for row in rows:
        if type(row) is not dict:
            raise shape_error(call, row)
        record = call.resource.mapper(row)
        if record["crash_id"] is None:
            record["crash_id"] = call.crash_id
        records.append(record)
    return records


def crash_summary(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``{"crashcount": {...}, "precrashcount": {...}, "crashfreeusers": n}``: one record."""
    summary = unwrap(data)
    if is_empty(summary):
        return []
    if type(summary) is not dict:
        raise shape_error(call, summary)
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if type(value) is dict and snake_case(key) in ("crashcount", "precrashcount"):
            for inner, count in value.items():
                flat[f"{key} {inner}"] = count
        else:
            flat[key] = value
    return [call.resource.mapper(flat)]


def crash_counts_by_date(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``{platform: {metric: {epoch_ms: count}}}``: one record per platform and bucket."""
    result = unwrap(data)
    if is_empty(result):
        return []
    if type(result) is not dict:
        raise shape_error(call, result)
    records: list[dict[str, Any]] = []
    if _without_platform_level(result):
        _metric_maps(call, result, {"platform": None}, records, "")
        return records
    for platform, metrics in result.items():
        _metric_maps(call, metrics, {"platform": platform}, records, f"platform {platform!r}")
    return records


def crash_issue_counts_by_date(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``{metric: {epoch_ms: count}}`` of one crash issue: one record per bucket."""
    result = unwrap(data)
    if is_empty(result):
        return []
    records: list[dict[str, Any]] = []
    _metric_maps(call, result, {"crash_id": call.crash_id}, records, "")
    return records


def country_counts(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``{"data": {"result": {country: count}}}``: one record per country."""
    result = unwrap(data)
    if is_empty(result):
        return []
    if type(result) is not dict:
        raise shape_error(call, result)
    return [{"country": country, "event_count": to_count(count)} for country, count in result.items()]


def event_device_counts(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``{"result": {"name(group)": count}}``: one record per event, carrying the call's window."""
    result = unwrap(data)
    if is_empty(result):
        return []
    if type(result) is not dict:
        raise shape_error(call, result)
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


def multigroup(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """
    Counts nested by the requested group entities: ``{"01-01-2020": {"iOS": 2, "Android": "5"}}``.

    The nesting levels follow the ``group`` order, and each leaf is a count. One record per leaf: the keys
    on its path (``date`` keys as ``YYYY-MM-DD``), then ``count``.
    """
    result = unwrap(data)
    if is_empty(result):
        return []
    if type(result) is not dict:
        raise shape_error(call, result)
    group = call.group
    fields = (*group, "count")
    last = len(group) - 1
    dates = tuple(entity == "date" for entity in group)
    records: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], level: int, prefix: tuple[Any, ...]) -> None:
        for key, value in node.items():
            values = (*prefix, api_date_to_iso(key) if dates[level] else key)
            if level == last:
                if type(value) in (dict, list):
                    raise _nesting_error(call, value, values)
                records.append(dict(zip(fields, (*values, to_count(value)), strict=True)))
            elif type(value) is dict:
                walk(value, level + 1, values)
            else:
                raise _nesting_error(call, value, values)

    walk(result, 0, ())
    return records


def projects(call: ApiCall, data: Any) -> list[dict[str, Any]]:
    """``{"result": [portal...]}``, each portal with its ``projects``: one record per project."""
    portals = unwrap(data)
    if is_empty(portals):
        return []
    if type(portals) is dict:
        portals = [portals]
    if type(portals) is not list:
        raise shape_error(call, portals)
    records = []
    for portal in portals:
        if type(portal) is not dict:
            raise shape_error(call, portal)
        projects = portal.get("projects") or [{}]
        if type(projects) is not list:
            raise shape_error(call, projects, "projects")
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


# -- helpers ------------------------------------------------------------------------------------------------

# A ``projects`` record joins two levels of the answer: the portal's fields, then the project's.
_PORTAL = RowMapper("projects", ("portal_id", "portal_name"), {"zsoid": "portal_id"}, {"portal_id": to_id})
_PROJECT = RowMapper("projects", ("project_id", "project_name", "platforms"), {}, {"project_id": to_id})


def _nesting_error(call: ApiCall, found: Any, at: tuple[Any, ...]) -> ZohoAPIError:
    group = call.group
    return ZohoAPIError(
        f"Apptics resource {call.resource.name!r} answered with an unexpected shape at "
        f"{' > '.join(map(str, at))}: expected counts nested {len(group)} level(s) deep in group order "
        f"({', '.join(group)}), got {type(found).__name__} {snippet(found)}"
    )


def _without_platform_level(result: dict[str, Any]) -> bool:
    """Metric maps without the platform level (a single platform answered unwrapped)."""
    return any(snake_case(key) in COUNT_MAP_KEYS for key in result)


def _metric_maps(
    call: ApiCall, metrics: Any, lead: dict[str, Any], records: list[dict[str, Any]], where: str
) -> None:
    """Merge ``{metric: {bucket: n}}`` into one record per bucket, appended to ``records``."""
    if is_empty(metrics):
        return
    if type(metrics) is not dict:
        raise shape_error(call, metrics, where)
    mapper = call.resource.mapper
    buckets: dict[str, dict[str, Any]] = {}
    blank = dict.fromkeys(METRICS)
    extras: list[str] = []
    for (metric, counts), name in zip(metrics.items(), mapper.field_names(metrics), strict=True):
        if is_empty(counts):
            continue
        if type(counts) is not dict:
            raise shape_error(call, counts, f"{where} metric {metric!r}".lstrip())
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
