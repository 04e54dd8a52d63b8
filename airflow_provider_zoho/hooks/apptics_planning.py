"""
Planning Apptics calls: every argument checked before any request, then the calls to make.

Pure (no HTTP, no Airflow). :func:`plan_calls` turns what a user asked for (a resource, a window, filters,
extra parameters) into :class:`ApiCall` objects, one per call (``event_device_counts`` takes at most 60 days
per call, so longer windows become several), or raises ``ZohoConfigError`` naming the argument for
anything the API would reject or misread. :func:`plan_crash_fan_out` plans a per-crash resource for every
crash issue of a window (the crash list's calls, then each issue's), and :func:`dataset_identity` says
which of the arguments decide the rows, so that different data never shares a partition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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
    "CRASH_LIST",
    "IDENTITY_ORDER",
    "MAX_CRASH_CONCURRENCY",
    "ApiCall",
    "CrashFanOut",
    "check_concurrency",
    "crash_id_text",
    "dataset_columns",
    "dataset_identity",
    "fans_out",
    "plan_calls",
    "plan_crash_fan_out",
    "resolve_resource",
]

#: The identity parameters with a name of their own, in path order; other API parameters follow by name.
IDENTITY_ORDER = ("crash_id", "group", "platforms", "app_versions", "mode")
#: The resource that lists the crash issues of a window, for the per-crash resources without ``crash_id``.
CRASH_LIST = "crashes"
#: The most crash issues fetched at once when a per-crash resource reads every crash issue of a window.
MAX_CRASH_CONCURRENCY = 16

_CRASH_ID = re.compile(r"[A-Za-z0-9_-]+")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
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
    if spec.needs_crash_id and params.get("crash_id") is None:
        raise ZohoConfigError(
            f"crash_id: resource {spec.name!r} needs the crash's id (the UniqueMessageID of a "
            "'crashes' record); pass crash_id=... (or read every crash issue of the window with "
            "AppticsHook.iter_crash_records)"
        )
    window = _window(spec, start_date, end_date)
    arguments = _arguments(spec, platforms, app_versions, mode, params)
    return _calls(spec, arguments, window)


@dataclass(frozen=True)
class CrashFanOut:
    """
    The plan of a per-crash resource for every crash issue of a window (see :func:`plan_crash_fan_out`).

    :param resource: the per-crash resource.
    :param list_calls: the ``crashes`` calls that list the window's crash issues (every page of them).
    :param issue_calls: the calls of one issue, with ``{crash_id}`` still in their path
        (:meth:`calls_for` fills it in).
    """

    resource: Resource
    list_calls: tuple[ApiCall, ...]
    issue_calls: tuple[ApiCall, ...]

    def calls_for(self, crash_id: str) -> list[ApiCall]:
        """
        The calls of one crash issue.

        :param crash_id: the issue's id, as :func:`crash_id_text` returns it.
        :raises ValueError: if it is not a crash id (it goes into the path).
        """
        if crash_id_text(crash_id) != crash_id:
            raise ValueError(f"not a crash id: {crash_id!r}")
        path = self.resource.path.format(crash_id=crash_id)
        return [replace(call, path=path, crash_id=crash_id) for call in self.issue_calls]


def plan_crash_fan_out(
    resource: str | Resource,
    start_date: date | datetime | str | None,
    end_date: date | datetime | str | None,
    *,
    platforms: Iterable[str] | str | None = None,
    app_versions: Iterable[str] | str | None = None,
    mode: int | str | None = None,
    **params: Any,
) -> CrashFanOut:
    """
    Validate and plan a per-crash resource for every crash issue that ``crashes`` lists for the window.

    A filter narrows the crash list when ``crashes`` takes it (``platforms``, ``app_versions``, ``mode``)
    and goes to each issue's calls too when the per-crash resource takes it (``app_versions``, ``mode``);
    other parameters go to each issue's calls. Nothing is requested.

    :param resource: a per-crash resource (its path has ``{crash_id}``).
    :param start_date: first day, inclusive (as for :func:`plan_calls`).
    :param end_date: last day, inclusive.
    :param platforms: as for :func:`plan_calls`; narrows the crash list.
    :param app_versions: as for :func:`plan_calls`; narrows the list and each issue's calls.
    :param mode: as for :func:`plan_calls`; narrows the list and each issue's calls.
    :param params: other parameters of the per-crash resource; no ``crash_id``.
    :raises ZohoConfigError: naming the argument, for anything either resource would reject.
    """
    spec = resolve_resource(resource)
    if not spec.needs_crash_id:
        per_crash = ", ".join(name for name, candidate in RESOURCES.items() if candidate.needs_crash_id)
        raise ZohoConfigError(
            f"resource: {spec.name!r} is not a per-crash resource; reading every crash issue of a window "
            f"applies to {per_crash} (read {spec.name!r} with iter_records)"
        )
    if params.get("crash_id") is not None:
        raise ZohoConfigError(
            f"crash_id: reading every crash issue of the window takes no crash_id; read one crash with "
            f"iter_records({spec.name!r}, ..., crash_id=...)"
        )
    window = _window(spec, start_date, end_date)
    listed, per_issue = _fan_out_arguments(spec, platforms, app_versions, mode, params)
    return CrashFanOut(
        spec,
        tuple(_calls(RESOURCES[CRASH_LIST], listed, window)),
        tuple(_calls(spec, per_issue, window)),
    )


def fans_out(resource: str | Resource, crash_id: Any) -> bool:
    """
    Whether an extraction reads every crash issue of its window: a per-crash resource without ``crash_id``.

    :param resource: a name of ``RESOURCES`` (or a :class:`Resource`).
    :param crash_id: the ``crash_id`` given, or ``None``.
    :raises ZohoConfigError: for an unknown resource.
    """
    return resolve_resource(resource).needs_crash_id and crash_id is None


def check_concurrency(value: Any, argument: str = "concurrency") -> int:
    """
    Check how many crash issues a fan-out may fetch at once.

    :param value: a whole number from 1 to :data:`MAX_CRASH_CONCURRENCY`.
    :param argument: the argument's name, for the message.
    :raises ZohoConfigError: for anything else.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CRASH_CONCURRENCY:
        raise ZohoConfigError(
            f"{argument}: expected a whole number from 1 to {MAX_CRASH_CONCURRENCY} (crash issues fetched "
            f"at once), got {value!r}"
        )
    return value


def crash_id_text(value: Any) -> str | None:
    """
    A crash id as it goes into a path (``7340000000123007``), or ``None`` if ``value`` is not one.

    :param value: text or a whole number: letters, digits, ``-`` and ``_``, surrounding blanks ignored.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text if _CRASH_ID.fullmatch(text) else None


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
    The identity is made of the parameters that are set (checked as :func:`plan_calls`, or for a per-crash
    resource without ``crash_id`` :func:`plan_crash_fan_out`, checks them), in the order of
    :data:`IDENTITY_ORDER`, then every other API parameter by name. Values are written as sent, except:
    lists are sorted and joined with ``+`` (``platforms=Android+iOS``, ``group=date+platform``: the order
    of ``group`` changes only the nesting of Apptics' answer, not the rows, and the files' columns follow
    one canonical order, see :func:`dataset_columns`); ``group`` counts only when it names other entities
    than the resource's default group; a ``+`` or ``%`` inside a value is written ``%2B`` or ``%25``, so
    ``+`` only ever separates list items. The names are the arguments' (``platforms``,
    ``app_versions``), which no record field has, so a query engine reading the levels as columns never
    hides a record's own ``platform`` or ``app_version``.

    :param resource: a name of ``RESOURCES`` (or a :class:`Resource`).
    :param platforms: as for :func:`plan_calls`.
    :param app_versions: as for :func:`plan_calls`.
    :param mode: as for :func:`plan_calls`.
    :param params: as for :func:`plan_calls` (``crash_id``, ``group``, other API parameters).
    :return: ``(name, value)`` pairs in path order; empty for a plain extraction.
    :raises ZohoConfigError: for anything :func:`plan_calls` (or :func:`plan_crash_fan_out`) would reject.
    """
    spec = resolve_resource(resource)
    if fans_out(spec, params.get("crash_id")):
        listed, arguments = _fan_out_arguments(spec, platforms, app_versions, mode, params)
        arguments = replace(arguments, filters={**listed.filters, **arguments.filters})
    else:
        arguments = _arguments(spec, platforms, app_versions, mode, params)
    named = {
        "crash_id": arguments.crash_id,
        "group": ",".join(arguments.group) if set(arguments.group) != set(spec.group) else None,
        "platforms": arguments.filters.get("platform"),
        "app_versions": arguments.filters.get("appversion"),
        "mode": arguments.filters.get("mode"),
    }
    identity = [
        (name, _identity_value(value)) for name in IDENTITY_ORDER if (value := named[name]) is not None
    ]
    identity.extend((name, _identity_value(arguments.extra[name])) for name in sorted(arguments.extra))
    return identity


def _identity_value(value: str) -> str:
    """The items of a sent value (comma-separated), sorted, escaped and joined with ``+``."""
    return "+".join(sorted(item.replace("%", "%25").replace("+", "%2B") for item in value.split(",")))


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


# -- what a request is made of -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arguments:
    """
    The checked arguments of a request besides its window, as the API receives them.

    :param crash_id: the crash id of a per-crash call (``None`` in a fan-out's per-issue template).
    :param group: the group entities of a multigroup call, in order; empty for the others.
    :param filters: ``platform``, ``appversion`` and ``mode`` as sent, those that are set.
    :param extra: every other query parameter, as sent.
    """

    crash_id: str | None
    group: tuple[str, ...]
    filters: dict[str, str]
    extra: dict[str, str]


def _arguments(
    spec: Resource, platforms: Any, app_versions: Any, mode: Any, params: dict[str, Any]
) -> _Arguments:
    """Check every argument but the window (a missing ``crash_id`` is the caller's to refuse)."""
    params = dict(params)
    crash_id = params.pop("crash_id", None)
    crash_id = _crash_id_param(spec, crash_id) if crash_id is not None else None
    group_arg = params.pop("group", None)
    if group_arg is not None and not spec.multigroup:
        raise _reject(spec, "group")
    group = _group_param(spec, group_arg) if spec.multigroup else ()
    sent = {
        "platform": _platforms_param(spec, platforms),
        "appversion": _app_versions_param(spec, app_versions),
        "mode": _mode_param(spec, mode),
    }
    filters = {name: value for name, value in sent.items() if value is not None}
    extra: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        hint = _RESERVED_PARAMS.get(name.lower())
        if hint is not None:
            raise ZohoConfigError(f"{name}: {hint}")
        if not _PARAM_NAME.fullmatch(name):
            raise ZohoConfigError(
                f"{name!r}: an API parameter name is made of letters, digits and '_' (it becomes a query "
                "parameter and a partition level); check the name"
            )
        extra[name] = _param_value(name, value)
    given = {"platforms": sent["platform"], "app_versions": sent["appversion"], "mode": sent["mode"]}
    for name, needed in spec.requires.items():
        if name in extra and given.get(needed) is None:
            raise ZohoConfigError(
                f"{name}: resource {spec.name!r} only takes {name} together with {needed}; "
                f"pass {needed}=... too"
            )
    return _Arguments(crash_id, group, filters, extra)


def _fan_out_arguments(
    spec: Resource, platforms: Any, app_versions: Any, mode: Any, params: dict[str, Any]
) -> tuple[_Arguments, _Arguments]:
    """
    The arguments of a fan-out's crash list and of each of its issues.

    A filter goes to the list when ``crashes`` takes it, and to each issue when the per-crash resource
    takes it (or when neither does, so that the per-crash resource's check names it).
    """
    crash_list = RESOURCES[CRASH_LIST]
    filters = {"platforms": platforms, "app_versions": app_versions, "mode": mode}
    to_list = {name: value for name, value in filters.items() if name in crash_list.filters}
    to_issue = {
        name: value
        for name, value in filters.items()
        if name in spec.filters or name not in crash_list.filters
    }
    listed = _arguments(crash_list, params={}, **_as_filters(to_list))
    per_issue = _arguments(
        spec, params={name: v for name, v in params.items() if name != "crash_id"}, **_as_filters(to_issue)
    )
    return listed, per_issue


def _as_filters(given: dict[str, Any]) -> dict[str, Any]:
    return {name: given.get(name) for name in ("platforms", "app_versions", "mode")}


def _calls(spec: Resource, arguments: _Arguments, window: tuple[date, date] | None) -> list[ApiCall]:
    """The calls of a checked request: one, or one per chunk of at most ``max_days`` days."""
    query = dict(arguments.filters)
    if arguments.group:
        query["group"] = ",".join(arguments.group)
        query["responseformat"] = "nestedjson"
    query.update(arguments.extra)
    crash_id, group = arguments.crash_id, arguments.group
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


def _crash_id_param(resource: Resource, crash_id: Any) -> str:
    if not resource.needs_crash_id:
        raise _reject(resource, "crash_id")
    text = crash_id_text(crash_id)
    if text is None:
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
