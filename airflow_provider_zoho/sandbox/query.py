"""
The sandbox's Apptics resource catalog and the validation of request parameters.

Both the API renderer (:mod:`~airflow_provider_zoho.sandbox.apptics`) and the test oracle
(:mod:`~airflow_provider_zoho.sandbox.expected`) read requests through :func:`parse_query`, so they agree on
what a request means and reject the same bad requests with the same codes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_zoho.sandbox.data import MAIN_PLATFORMS, PLATFORMS

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_PLATFORMS: tuple[str, ...] = MAIN_PLATFORMS
MAX_PLATFORMS = 5
MAX_LIMIT = 500
DEFAULT_DAYS = 7
MAX_WINDOW_DAYS = 3660
MODES = (0, 1)
GROUP_ENTITIES: tuple[str, ...] = ("date", "platform", "bundle", "country", "appversion", "devicetype")
MAX_GROUPS = 3

_DATE_RE = re.compile(r"^(\d{2})-(\d{2})-(\d{4})$")
_INT_RE = re.compile(r"^-?\d+$")
_CRASH_ID_RE = re.compile(r"^\d{1,30}$")


class AppticsRequestError(Exception):
    """
    A request the Apptics API refuses; rendered as ``{"status": "failure", "error": {...}}``.

    :param status: HTTP status of the answer.
    :param code: Zoho-style error code, e.g. ``INVALID_LIMIT``.
    :param message: human-readable explanation.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, object]:
        return {"status": "failure", "error": {"code": self.code, "message": self.message}}


@dataclass(frozen=True)
class ResourceSpec:
    """
    One Apptics resource as the sandbox serves it.

    :param name: resource name used by the provider (``crashes``, ``screens``...).
    :param path: path under ``/cx/api/v1``; ``{crash_id}`` marks the crash id segment.
    :param paged: whether ``limit``/``offset`` apply.
    :param platforms: whether the ``platform`` filter applies.
    :param max_app_versions: how many ``appversion`` values are accepted (0: the filter does not apply).
    :param mode: whether the ``mode`` filter applies.
    :param groups: group entities accepted by a multigroup resource (empty otherwise).
    :param default_group: group used when the request names none.
    :param max_days: the largest allowed ``enddate - startdate`` in days, if the API caps it.
    :param project_headers: whether ``zsoid``/``projectid`` headers are required.
    """

    name: str
    path: str
    paged: bool = False
    platforms: bool = False
    max_app_versions: int = 0
    mode: bool = False
    groups: tuple[str, ...] = ()
    default_group: tuple[str, ...] = ()
    max_days: int | None = None
    project_headers: bool = True

    @property
    def multigroup(self) -> bool:
        return bool(self.groups)

    @property
    def needs_crash_id(self) -> bool:
        return "{crash_id}" in self.path


RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        ResourceSpec("projects", "/userprojects", project_headers=False),
        ResourceSpec("crashes", "/crash/list", paged=True, platforms=True, max_app_versions=10, mode=True),
        ResourceSpec("crash_summary", "/crash/summary", platforms=True, max_app_versions=10, mode=True),
        ResourceSpec(
            "crash_counts_by_date",
            "/crash/countbydate",
            paged=True,
            platforms=True,
            max_app_versions=10,
            mode=True,
        ),
        ResourceSpec(
            "crash_issue_counts_by_date",
            "/crash/{crash_id}/countbydate",
            paged=True,
            max_app_versions=1,
            mode=True,
        ),
        ResourceSpec("crash_detail", "/crash/{crash_id}/summarywithtrace", max_app_versions=1, mode=True),
        ResourceSpec(
            "crash_os_versions", "/crash/{crash_id}/osversion", paged=True, max_app_versions=10, mode=True
        ),
        ResourceSpec(
            "crash_device_models",
            "/crash/{crash_id}/devicemodel",
            paged=True,
            max_app_versions=10,
            mode=True,
        ),
        ResourceSpec("affected_devices", "/crash/affecteddevice", paged=True, mode=True),
        ResourceSpec("active_devices_by_date", "/activedevice/countbydate", paged=True, platforms=True),
        ResourceSpec(
            "active_devices",
            "/activedevice/multigroup",
            paged=True,
            platforms=True,
            groups=GROUP_ENTITIES,
            default_group=("date", "platform"),
        ),
        ResourceSpec("event_summary", "/event/summary", paged=True, platforms=True),
        ResourceSpec("event_counts_by_date", "/event/countbydate", paged=True, platforms=True),
        ResourceSpec("event_counts_by_country", "/event/countrysummary", paged=True, platforms=True),
        ResourceSpec(
            "event_device_counts", "/event/devicecount", paged=True, platforms=True, mode=True, max_days=60
        ),
        ResourceSpec(
            "screens",
            "/screen/multigroup",
            paged=True,
            platforms=True,
            groups=(*GROUP_ENTITIES, "screen"),
            default_group=("date", "screen"),
        ),
        ResourceSpec(
            "api_stats",
            "/api/multigroup",
            paged=True,
            platforms=True,
            groups=(*GROUP_ENTITIES, "api"),
            default_group=("date", "api"),
        ),
    )
}

#: The quirks ``set_quirks`` turns on for chosen days, and the resources each applies to: ``extra_field``
#: (every row gains a key no client knows), ``integer_rate`` (the crash-free users rate sent as a whole
#: number), ``empty`` (no rows at all).
QUIRK_RESOURCES: dict[str, tuple[str, ...]] = {
    "extra_field": (
        "crashes",
        "crash_summary",
        "crash_detail",
        "crash_os_versions",
        "crash_device_models",
        "affected_devices",
        "active_devices_by_date",
        "event_summary",
        "event_counts_by_date",
    ),
    "integer_rate": ("crash_summary",),
    "empty": (*(name for name, spec in RESOURCES.items() if spec.paged), "crash_detail"),
}

_STATIC_PATHS = {spec.path: spec for spec in RESOURCES.values() if not spec.needs_crash_id}
_CRASH_PATHS = {spec.path.rsplit("/", 1)[1]: spec for spec in RESOURCES.values() if spec.needs_crash_id}


def match_path(path: str) -> tuple[ResourceSpec, str | None] | None:
    """
    Find the resource served at ``path`` (the part after ``/cx/api/v1``).

    :param path: request path below the API root, e.g. ``/crash/734000/osversion``.
    :return: the resource and the crash id from the path (or ``None``), or ``None`` when nothing matches.
    """
    path = path.rstrip("/") or "/"
    spec = _STATIC_PATHS.get(path)
    if spec is not None:
        return spec, None
    parts = path.split("/")
    if len(parts) == 4 and parts[0] == "" and parts[1] == "crash" and parts[2]:
        spec = _CRASH_PATHS.get(parts[3])
        if spec is not None:
            return spec, parts[2]
    return None


@dataclass(frozen=True)
class Query:
    """
    A validated Apptics request: what every data function of the sandbox receives.

    :param spec: the resource requested.
    :param start: first day (inclusive).
    :param end: last day (inclusive).
    :param platforms: requested platforms, in request order, without duplicates.
    :param app_versions: requested app versions (empty: all).
    :param mode: 0 (development) or 1 (production).
    :param limit: page size.
    :param offset: 0-based index of the first entry of each row container.
    :param group: multigroup entities in nesting order.
    :param crash_id: the crash id from the path, for ``/crash/{crash_id}/...`` resources.
    :param filters: multigroup filters (``bundle``, ``screenname``, ``apiname``) that were given.
    """

    spec: ResourceSpec
    start: dt.date
    end: dt.date
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    app_versions: tuple[str, ...] = ()
    mode: int = 1
    limit: int = MAX_LIMIT
    offset: int = 0
    group: tuple[str, ...] = ()
    crash_id: str | None = None
    filters: tuple[tuple[str, str], ...] = field(default=())

    @property
    def ordinals(self) -> range:
        """Proleptic Gregorian ordinals of every day in the window."""
        return range(self.start.toordinal(), self.end.toordinal() + 1)

    @property
    def hourly(self) -> bool:
        """Crash count-by-date answers use hourly buckets for a single-day window."""
        return self.start == self.end

    def filter(self, name: str) -> str | None:
        for key, value in self.filters:
            if key == name:
                return value
        return None


def format_date(day: dt.date) -> str:
    """``dd-MM-yyyy``, the Apptics date format."""
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"


def parse_date(value: str, name: str) -> dt.date:
    match = _DATE_RE.match(value.strip())
    if match is None:
        raise AppticsRequestError(400, "INVALID_DATE", f"{name} must be a date in dd-MM-yyyy format")
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise AppticsRequestError(400, "INVALID_DATE", f"{name} {value!r} is not a valid date") from None


def _split(value: str | None) -> list[str]:
    if value is None:
        return []
    return [item.strip() for item in value.split(",") if item.strip()]


def _int(params: Mapping[str, str], name: str, default: int, code: str) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not _INT_RE.match(raw.strip()):
        raise AppticsRequestError(400, code, f"{name} must be an integer")
    return int(raw)


def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def parse_query(
    spec: ResourceSpec,
    params: Mapping[str, str],
    crash_id: str | None = None,
    today: dt.date | None = None,
) -> Query:
    """
    Validate the query parameters of one request the way the Apptics API does.

    :param spec: the resource requested.
    :param params: query parameters (one value per name).
    :param crash_id: crash id from the path, for ``/crash/{crash_id}/...`` resources.
    :param today: the reference day for missing dates (default: today in UTC).
    :raises AppticsRequestError: for any parameter the API rejects (HTTP 400).
    """
    if spec.needs_crash_id:
        if not crash_id or not _CRASH_ID_RE.match(crash_id):
            raise AppticsRequestError(400, "INVALID_UNIQUEID", "the crash id in the path must be numeric")
    else:
        crash_id = None
    if spec.name == "projects":
        day = today or today_utc()
        return Query(spec, day, day)

    reference = today or today_utc()
    start_raw, end_raw = params.get("startdate"), params.get("enddate")
    start = parse_date(start_raw, "startdate") if start_raw else reference - dt.timedelta(days=DEFAULT_DAYS)
    end = parse_date(end_raw, "enddate") if end_raw else reference - dt.timedelta(days=1)
    if end < start:
        raise AppticsRequestError(400, "INVALID_DATE_RANGE", "enddate must not be before startdate")
    span = (end - start).days
    if spec.max_days is not None and span > spec.max_days:
        raise AppticsRequestError(
            400,
            "INVALID_DATE_RANGE",
            f"Difference between startdate and enddate cannot be more than {spec.max_days} days",
        )
    if span >= MAX_WINDOW_DAYS:
        raise AppticsRequestError(
            400, "INVALID_DATE_RANGE", f"the sandbox serves windows of at most {MAX_WINDOW_DAYS} days"
        )

    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    if spec.platforms:
        names = _split(params.get("platform"))
        for name in names:
            if name not in PLATFORMS:
                raise AppticsRequestError(
                    400,
                    "INVALID_PLATFORM",
                    f"unknown platform {name!r}; platforms are case-sensitive: {', '.join(PLATFORMS)}",
                )
        names = list(dict.fromkeys(names))
        if len(names) > MAX_PLATFORMS:
            raise AppticsRequestError(400, "INVALID_PLATFORM", f"at most {MAX_PLATFORMS} platforms")
        platforms = tuple(names) or DEFAULT_PLATFORMS

    app_versions: tuple[str, ...] = ()
    if spec.max_app_versions:
        versions = list(dict.fromkeys(_split(params.get("appversion"))))
        if len(versions) > spec.max_app_versions:
            raise AppticsRequestError(
                400, "INVALID_APPVERSION", f"at most {spec.max_app_versions} app version(s) per request"
            )
        app_versions = tuple(versions)

    mode = 1
    if spec.mode:
        mode = _int(params, "mode", 1, "INVALID_MODE")
        if mode not in MODES:
            raise AppticsRequestError(400, "INVALID_MODE", "mode must be 0 (development) or 1 (production)")

    limit, offset = MAX_LIMIT, 0
    if spec.paged:
        limit = _int(params, "limit", MAX_LIMIT, "INVALID_LIMIT")
        if not 1 <= limit <= MAX_LIMIT:
            raise AppticsRequestError(400, "INVALID_LIMIT", f"limit must be between 1 and {MAX_LIMIT}")
        offset = _int(params, "offset", 0, "INVALID_OFFSET")
        if offset < 0:
            raise AppticsRequestError(400, "INVALID_OFFSET", "offset must not be negative")

    group: tuple[str, ...] = ()
    filters: list[tuple[str, str]] = []
    if spec.multigroup:
        response_format = params.get("responseformat") or "nestedjson"
        if response_format != "nestedjson":
            raise AppticsRequestError(
                400, "INVALID_RESPONSEFORMAT", "the sandbox answers responseformat=nestedjson only"
            )
        names = _split(params.get("group")) or list(spec.default_group)
        if len(names) > MAX_GROUPS:
            raise AppticsRequestError(400, "INVALID_GROUP", f"at most {MAX_GROUPS} group entities")
        if len(set(names)) != len(names):
            raise AppticsRequestError(400, "INVALID_GROUP", "a group entity may appear only once")
        for name in names:
            if name not in spec.groups:
                raise AppticsRequestError(
                    400, "INVALID_GROUP", f"unknown group entity {name!r}; use {', '.join(spec.groups)}"
                )
        group = tuple(names)
        for name in ("bundle", "screenname", "apiname"):
            value = (params.get(name) or "").strip()
            if value:
                filters.append((name, value))

    return Query(
        spec=spec,
        start=start,
        end=end,
        platforms=platforms,
        app_versions=app_versions,
        mode=mode,
        limit=limit,
        offset=offset,
        group=group,
        crash_id=crash_id,
        filters=tuple(filters),
    )
