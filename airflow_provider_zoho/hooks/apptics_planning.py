"""
Planning Apptics calls: every argument checked before any request, then the calls to make.

Pure (no HTTP, no Airflow). :func:`plan_calls` turns what a user asked for (a resource, a window, filters,
extra parameters) into :class:`ApiCall` objects, one per call (``event_device_counts`` takes at most 60 days
per call, so longer windows become several), or raises ``ZohoConfigError`` naming the argument for
anything the API would reject or misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.hooks.apptics_normalize import format_api_date
from airflow_provider_zoho.hooks.apptics_resources import (
    MAX_GROUP_ENTITIES,
    MAX_PLATFORMS,
    PAGE_LIMIT,
    PLATFORMS,
    RESOURCES,
    Resource,
)
from airflow_provider_zoho.windows import parse_day

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from airflow_provider_zoho.schema import Column

__all__ = [
    "IDENTITY_ORDER",
    "ApiCall",
    "dataset_columns",
    "dataset_identity",
    "plan_calls",
    "resolve_resource",
]

#: The identity parameters with a name of their own, in path order; other API parameters follow by name.
IDENTITY_ORDER = ("crash_id", "group", "platform", "app_version", "mode")

_CRASH_ID = re.compile(r"[A-Za-z0-9_-]+")
_MODES = {0: "0", 1: "1", "0": "0", "1": "1"}
#: Query parameters that have an argument of their own (or none at all), with where they belong.
_RESERVED_PARAMS = {
    "limit": "paging is the hook's job (limit=500, offset stepping by limit); remove it",
    "offset": "paging is the hook's job (limit=500, offset stepping by limit); remove it",
    "startdate": "pass the window as start_date/end_date instead",
    "enddate": "pass the window as start_date/end_date instead",
    "platform": "pass platforms=... instead",
    "appversion": "pass app_versions=... instead",
    "responseformat": "multigroup resources are always read as nestedjson; remove it",
}


@dataclass(frozen=True)
class ApiCall:
    """
    One planned Apptics call (fetched page by page when its resource is paged).

    :param resource: the resource it reads.
    :param path: the formatted path under ``API_ROOT`` (``/crash/7340000000123007/osversion``).
    :param params: the query parameters as strings, without ``limit``/``offset`` (treat as read-only;
        :meth:`page_params` returns a fresh dict per page).
    :param window_start: the first day the call covers (inclusive); ``None`` for undated resources.
    :param window_end: the last day the call covers (inclusive); ``None`` for undated resources.
    :param crash_id: the crash id of the ``/crash/{crash_id}/...`` resources, copied into their records.
    :param group: the group entities of a multigroup resource, in nesting order.
    """

    resource: Resource
    path: str
    params: dict[str, str]
    window_start: date | None = None
    window_end: date | None = None
    crash_id: str | None = None
    group: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[Column, ...]:
        """The declared record columns, in order (unknown keys the API may add follow them)."""
        return self.resource.columns_for(self.group)

    def page_params(self, offset: int = 0) -> dict[str, str]:
        """
        Return the query parameters of one page.

        :param offset: the index of the first row, from 0 stepping by ``PAGE_LIMIT``.
        :return: :attr:`params` plus ``limit`` and ``offset`` when the resource is paged.
        """
        if not self.resource.paged:
            return dict(self.params)
        return {**self.params, "limit": str(PAGE_LIMIT), "offset": str(offset)}


def resolve_resource(resource: str | Resource) -> Resource:
    """
    Look a resource up by name.

    :param resource: a name of ``RESOURCES`` (or a :class:`Resource`, returned as is).
    :raises ZohoConfigError: for an unknown name, listing the known ones.
    """
    if isinstance(resource, Resource):
        return resource
    found = RESOURCES.get(resource) if isinstance(resource, str) else None
    if found is None:
        raise ZohoConfigError(
            f"resource: {resource!r} is not an Apptics resource; choose one of: {', '.join(RESOURCES)}"
        )
    return found


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

    :param resource: a name of ``RESOURCES`` (or a :class:`Resource`).
    :param start_date: first day, inclusive: ``date``, ``datetime`` or ISO ``YYYY-MM-DD``; ``None`` only
        for resources that take no dates (``projects``, which ignores any dates given).
    :param end_date: last day, inclusive, same forms; not before ``start_date``.
    :param platforms: list/tuple or comma string of ``PLATFORMS`` (at most 5), sent as ``platform``.
    :param app_versions: list/tuple or comma string (at most 10, or 1 for ``crash_detail`` and
        ``crash_issue_counts_by_date``), sent as ``appversion``.
    :param mode: ``0`` (development) or ``1`` (production).
    :param params: ``crash_id`` for the ``/crash/{crash_id}/...`` resources, ``group`` (list or comma
        string, 1 to 3 entities) for multigroup resources, anything else (``timezone``, ``bundle``,
        ``screenname``...) passed through as a query parameter; ``None`` values are dropped.
    :return: the calls in order: one, or one per chunk of at most ``max_days`` days.
    :raises ZohoConfigError: naming the argument, for anything the API would reject or misread.
    """
    spec = resolve_resource(resource)
    crash_id = _crash_id_param(spec, params.pop("crash_id", None))
    group_arg = params.pop("group", None)
    if group_arg is not None and not spec.multigroup:
        raise _reject(spec, "group")
    group = _group_param(spec, group_arg) if spec.multigroup else ()
    window = _window(spec, start_date, end_date)

    query: dict[str, str] = {}
    filters = {
        "platform": _platforms_param(spec, platforms),
        "appversion": _app_versions_param(spec, app_versions),
        "mode": _mode_param(spec, mode),
    }
    query.update((name, value) for name, value in filters.items() if value is not None)
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
    given = {"platforms": filters["platform"], "app_versions": filters["appversion"], "mode": filters["mode"]}
    for name, needed in spec.requires.items():
        if name in query and given.get(needed) is None:
            raise ZohoConfigError(
                f"{name}: resource {spec.name!r} only takes {name} together with {needed}; "
                f"pass {needed}=... too"
            )

    path = spec.path.format(crash_id=crash_id) if crash_id is not None else spec.path
    if window is None:
        return [ApiCall(spec, path, query, crash_id=crash_id, group=group)]
    return [
        ApiCall(
            spec,
            path,
            {"startdate": format_api_date(chunk_start), "enddate": format_api_date(chunk_end), **query},
            window_start=chunk_start,
            window_end=chunk_end,
            crash_id=crash_id,
            group=group,
        )
        for chunk_start, chunk_end in _chunks(window[0], window[1], spec.max_days)
    ]


def dataset_identity(
    resource: str | Resource,
    *,
    platforms: Iterable[str] | str | None = None,
    app_versions: Iterable[str] | str | None = None,
    mode: int | str | None = None,
    **params: Any,
) -> list[tuple[str, str]]:
    """
    What, besides the resource and the window, decides which rows an extraction holds.

    Two extractions with different identities hold different data, so they must not share a partition.
    The identity is made of the parameters that are set (checked as :func:`plan_calls` checks them), in
    the order of :data:`IDENTITY_ORDER`, then every other API parameter by name; lists are sorted and
    joined with ``+`` (``platform=Android+iOS``, ``group=date+platform``). A multigroup resource's
    ``group`` counts only when it differs from the resource's default group.

    :param resource: a name of ``RESOURCES`` (or a :class:`Resource`).
    :param platforms: as for :func:`plan_calls`.
    :param app_versions: as for :func:`plan_calls`.
    :param mode: as for :func:`plan_calls`.
    :param params: as for :func:`plan_calls` (``crash_id``, ``group``, other API parameters).
    :return: ``(name, value)`` pairs in path order; empty for a plain extraction.
    :raises ZohoConfigError: for anything :func:`plan_calls` would reject.
    """
    spec = resolve_resource(resource)
    params = dict(params)
    crash_id = params.pop("crash_id", None)
    group_arg = params.pop("group", None)
    if group_arg is not None and not spec.multigroup:
        raise _reject(spec, "group")
    group = sorted(_group_param(spec, group_arg)) if spec.multigroup else []
    named = {
        "crash_id": _crash_id_param(spec, crash_id) if crash_id is not None else None,
        "group": "+".join(group) if group != sorted(spec.group) else None,
        "platform": _platforms_param(spec, platforms),
        "app_version": _app_versions_param(spec, app_versions),
        "mode": _mode_param(spec, mode),
    }
    identity = [(name, _identity_value(value)) for name, value in named.items() if value is not None]
    for name in sorted(params):
        value = params[name]
        if value is None:
            continue
        hint = _RESERVED_PARAMS.get(name.lower())
        if hint is not None:
            raise ZohoConfigError(f"{name}: {hint}")
        identity.append((name, _identity_value(_param_value(name, value))))
    return identity


def dataset_columns(resource: str | Resource, group: Iterable[str] | str | None = None) -> tuple[Column, ...]:
    """
    The declared columns of the files an extraction writes (their schema).

    :param resource: a name of ``RESOURCES`` (or a :class:`Resource`).
    :param group: the ``group`` parameter, as for :func:`plan_calls` (multigroup resources only).
    :return: the resource's columns; for a multigroup resource, one per group entity in a canonical order
        whatever the order asked for (see :meth:`Resource.dataset_columns`), then ``count``.
    :raises ZohoConfigError: for a ``group`` :func:`plan_calls` would reject.
    """
    spec = resolve_resource(resource)
    if group is not None and not spec.multigroup:
        raise _reject(spec, "group")
    return spec.dataset_columns(_group_param(spec, group) if spec.multigroup else ())


def _identity_value(value: str) -> str:
    """A comma list as its sorted, ``+``-joined items; anything else as is."""
    return "+".join(sorted(value.split(","))) if "," in value else value


# -- argument checks ---------------------------------------------------------------------------------------


def _window(spec: Resource, start_date: Any, end_date: Any) -> tuple[date, date] | None:
    if not spec.dated:
        for argument, value in (("start_date", start_date), ("end_date", end_date)):
            if value is not None:
                parse_day(value, argument)
        return None
    if start_date is None or end_date is None:
        missing = "start_date" if start_date is None else "end_date"
        raise ZohoConfigError(
            f"{missing}: resource {spec.name!r} needs a window; pass start_date and end_date "
            "(inclusive dates)"
        )
    start, end = parse_day(start_date, "start_date"), parse_day(end_date, "end_date")
    if end < start:
        raise ZohoConfigError(
            f"end_date: {end.isoformat()} is before start_date {start.isoformat()}; "
            "both bounds are inclusive, so a one-day window has end_date == start_date"
        )
    return start, end


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


def _chunks(start: date, end: date, max_days: int | None) -> list[tuple[date, date]]:
    if max_days is None:
        return [(start, end)]
    chunks = []
    while True:  # no date arithmetic past ``end``: windows may touch date.max
        chunk_end = end if (end - start).days < max_days else start + timedelta(days=max_days - 1)
        chunks.append((start, chunk_end))
        if chunk_end == end:
            return chunks
        start = chunk_end + timedelta(days=1)
