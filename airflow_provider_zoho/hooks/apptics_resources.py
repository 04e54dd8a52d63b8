"""
The Zoho Apptics resource table: what can be extracted, declared once.

Each :class:`Resource` says where it lives (path), what it accepts (filters, paging, window), how its
answers are read (a parser of :mod:`~airflow_provider_zoho.hooks.apptics_parsing`) and what its records
are: the declared columns (name, type, nullability, description) and which API keys map to them. Adding an
endpoint is one entry here plus, at most, one parser.

The declared columns drive record normalization (ids become text, counts integers, epoch milliseconds and
``dd-MM-yyyy`` dates ISO text), the typed files the operators write (:meth:`Resource.dataset_columns`) and
``docs/apptics-resources.md`` (generated from this table by ``scripts/gen_resource_docs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.hooks import apptics_parsing as parsers
from airflow_provider_zoho.hooks.apptics_normalize import RowMapper, to_count, to_id, to_temporal
from airflow_provider_zoho.schema import Column, column_names

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from airflow_provider_zoho.hooks.apptics_planning import ApiCall

    Parser = Callable[[ApiCall, Any], "list[dict[str, Any]]"]
    Containers = Callable[[Any], Iterable[Any]]

__all__ = [
    "API_ROOT",
    "GROUP_COLUMNS",
    "GROUP_ENTITIES",
    "MAX_APP_VERSIONS",
    "MAX_GROUP_ENTITIES",
    "MAX_PLATFORMS",
    "PAGE_LIMIT",
    "PLATFORMS",
    "RESOURCES",
    "Resource",
]

#: Path prefix of every Apptics call; :attr:`Resource.path` is relative to it.
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


def converter(column: Column) -> Callable[[Any], Any] | None:
    """How a record value of ``column`` is normalized: ids to text, counts to ``int``, times to ISO."""
    if column.is_id:
        return to_id
    if column.type == "int64":
        return to_count
    if column.type in ("date", "timestamp"):
        return to_temporal
    return None


@dataclass(frozen=True)
class Resource:
    """
    One Apptics resource.

    :param name: the resource name users pass (``crashes``).
    :param path: the path under :data:`API_ROOT`; may contain ``{crash_id}``.
    :param parse: ``parse(call, decoded_json) -> records`` (see :mod:`.apptics_parsing`).
    :param envelope: what the API's answer looks like, for error messages.
    :param columns: the declared record columns in record order (for multigroup resources: none, the
        columns depend on the requested ``group``; see :meth:`dataset_columns`).
    :param key_map: snake_case API key -> column, for the API names that differ from the column names.
    :param context: columns the parser fills from the request rather than from a row (``crash_id`` of
        the ``/crash/{crash_id}/...`` resources, the ``platform`` key of platform-keyed answers).
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
    :param containers: the row containers of an unwrapped page; a page is full when one holds ``limit``
        entries (see :func:`.apptics_parsing.page_is_full`).
    """

    name: str
    path: str
    parse: Parser = field(repr=False, compare=False)
    envelope: str
    columns: tuple[Column, ...] = ()
    key_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    context: tuple[str, ...] = ()
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
    containers: Containers = field(default=parsers.whole_page, repr=False, compare=False)

    @property
    def multigroup(self) -> bool:
        """Whether the resource answers with counts nested by the requested ``group`` entities."""
        return bool(self.group)

    @property
    def needs_crash_id(self) -> bool:
        """Whether the path contains ``{crash_id}``, so a ``crash_id`` parameter is required."""
        return "{crash_id}" in self.path

    @property
    def fields(self) -> tuple[str, ...]:
        """The declared column names in record order (empty for multigroup resources)."""
        return column_names(self.columns)

    def dataset_columns(self, group: tuple[str, ...] = ()) -> tuple[Column, ...]:
        """
        The declared columns of the resource's records and files.

        :param group: the requested group entities (multigroup resources; defaults to :attr:`group`).
        :return: for a multigroup resource, one column per requested group entity, in the order of
            :attr:`group_entities` whatever the order asked for (the rows are the same, so both orders
            write one partition with one schema; the file writer reorders the records), then ``count``;
            for the others, :attr:`columns`.
        """
        if not self.multigroup:
            return self.columns
        chosen = set(group or self.group)
        entities = (entity for entity in self.group_entities if entity in chosen)
        return (*(GROUP_COLUMNS[entity] for entity in entities), _MULTIGROUP_COUNT)

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

    @cached_property
    def mapper(self) -> RowMapper:
        """Maps the API's rows to records of :attr:`columns` (the parsers of row-based answers use it)."""
        converters = {
            column.name: convert
            for column in self.columns
            if column.name not in self.context and (convert := converter(column)) is not None
        }
        return RowMapper(self.name, self.fields, self.key_map, converters, context_fields=self.context)


def _string(name: str, description: str, nullable: bool = True) -> Column:
    return Column(name, "string", description, nullable)


def _count(name: str, description: str, nullable: bool = True) -> Column:
    return Column(name, "int64", description, nullable)


def _metrics(what: str, order: Iterable[str] = parsers.METRICS, prefix: str = "") -> tuple[Column, ...]:
    """The crash metric columns (``crash_count``, ``device_count``...), described for ``what``."""
    meaning = {
        "crash_count": "crashes",
        "device_count": "devices that crashed",
        "user_count": "users who had a crash",
        "issue_count": "distinct crash issues",
    }
    return tuple(_count(f"{prefix}{name}", f"{meaning[name]} {what}") for name in order)


_CRASH_ID = _string("crash_id", "crash issue id (the UniqueMessageID of a crashes record)", nullable=False)
_PLATFORM = _string("platform", "platform, as Apptics names it in the answer's keys")
_BUCKET = Column("bucket_start", "timestamp", "start of the time bucket, UTC", nullable=False)
_APP_VERSION = _string("app_version", "app version")
_OS_VERSION = _string("os_version", "operating system version")
_MODEL = _string("model", "device model")
_DEVICE_ID = _string("device_id", "Apptics device id")
_USER_ID = _string("user_id", "Apptics user id")
_HAPPENED_AT = Column("happened_at", "timestamp", "when the crash happened, UTC")
_EVENT_GROUP = _string("event_group", "event group (j_applifecycle, custom groups...)")
_EVENT_NAME = _string("event_name", "event name")
_EVENT_COUNT = _count("event_count", "times the event was logged")

#: The column of each multigroup ``group`` entity.
GROUP_COLUMNS: Mapping[str, Column] = MappingProxyType(
    {
        "date": Column("date", "date", "day", nullable=False),
        "platform": _string("platform", "platform", nullable=False),
        "bundle": _string("bundle", "app bundle id", nullable=False),
        "country": _string("country", "country", nullable=False),
        "appversion": _string("appversion", "app version", nullable=False),
        "devicetype": _string("devicetype", "device type (Mobile, Tablet, TV...)", nullable=False),
        "screen": _string("screen", "screen name", nullable=False),
        "api": _string("api", "API name", nullable=False),
    }
)
_MULTIGROUP_COUNT = _count("count", "the measure for this combination of group values")

#: Count-map keys of ``crash_summary``'s two blocks, flattened by its parser as ``<block> <metric>``.
_SUMMARY_KEYS = {
    **{f"crashcount_{key}": name for key, name in parsers.COUNT_MAP_KEYS.items()},
    **{f"precrashcount_{key}": f"previous_{name}" for key, name in parsers.COUNT_MAP_KEYS.items()},
    "crashfreeusers": "crash_free_users",
}
_SUMMARY_ORDER = ("crash_count", "issue_count", "device_count", "user_count")
_EVENT_KEYS = {"group": "event_group", "events_name": "event_name", "events_count": "event_count"}

_LIST = '{"data": [row...]} or a bare [row...]'
_PLATFORM_LISTS = '{"data": {"result": {platform: [row...]}}, "status": 200}'
_NESTED = '{"result": {...counts nested in group order...}, "status": 200}'

#: Every Apptics resource, by name (the order of ``docs/apptics-resources.md``).
RESOURCES: Mapping[str, Resource] = MappingProxyType(
    {
        resource.name: resource
        for resource in (
            Resource(
                "projects",
                "/userprojects",
                parsers.projects,
                '{"result": [portal...], "status": 200}',
                columns=(
                    _string("portal_id", "Apptics portal id (sent as the zsoid header)"),
                    _string("portal_name", "portal name"),
                    _string("project_id", "Apptics project id (sent as the projectid header)"),
                    _string("project_name", "project name"),
                    Column("platforms", "json", "the project's platforms, a list"),
                ),
                dated=False,
                project_headers=False,
            ),
            Resource(
                "crashes",
                "/crash/list",
                parsers.row_list,
                _LIST,
                columns=(
                    _string("crash_id", "crash issue id (UniqueMessageID)"),
                    _APP_VERSION,
                    _count("status", "issue status code, as Apptics sends it"),
                    _string("os", "operating system"),
                    _string("exception", "exception message"),
                    _string("exception_type", "exception class"),
                    _count("crash_count", "crashes of this issue in the window"),
                    _count("device_count", "devices that had this crash in the window"),
                    _count("user_count", "users who had this crash in the window"),
                    _string("platform_id", "Apptics platform id (PID)"),
                    _string("app_version_id", "Apptics app version id"),
                ),
                key_map={
                    "unique_message_id": "crash_id",
                    "devices_count": "device_count",
                    "users_count": "user_count",
                    "pid": "platform_id",
                },
                paged=True,
                platforms=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "crash_summary",
                "/crash/summary",
                parsers.crash_summary,
                '{"crashcount": {...}, "precrashcount": {...}, "crashfreeusers": n}',
                columns=(
                    *_metrics("in the window", _SUMMARY_ORDER),
                    *_metrics("in the previous window of the same length", _SUMMARY_ORDER, "previous_"),
                    Column("crash_free_users", "float64", "share of users without a crash, in percent"),
                ),
                key_map=_SUMMARY_KEYS,
                platforms=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "crash_counts_by_date",
                "/crash/countbydate",
                parsers.crash_counts_by_date,
                "{platform: {metric: {epoch_ms: count}}}",
                columns=(_PLATFORM, _BUCKET, *_metrics("in the bucket")),
                key_map=parsers.COUNT_MAP_KEYS,
                context=("platform", "bucket_start"),
                paged=True,
                containers=parsers.per_platform_count_maps,
                platforms=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "crash_issue_counts_by_date",
                "/crash/{crash_id}/countbydate",
                parsers.crash_issue_counts_by_date,
                "{metric: {epoch_ms: count}}",
                columns=(_CRASH_ID, _BUCKET, *_metrics("in the bucket")),
                key_map=parsers.COUNT_MAP_KEYS,
                context=("crash_id", "bucket_start"),
                paged=True,
                containers=parsers.page_values,
                max_app_versions=1,
                mode=True,
            ),
            Resource(
                "crash_detail",
                "/crash/{crash_id}/summarywithtrace",
                parsers.crash_detail,
                '{"data": {...}}',
                columns=(
                    _CRASH_ID,
                    Column("date", "date", "day of the crash"),
                    _HAPPENED_AT,
                    Column("session_start_time", "timestamp", "start of the session that crashed, UTC"),
                    _string("message", "crash message"),
                    _string("exception", "exception message"),
                    _string("issue_name", "issue name"),
                    _string("os", "operating system"),
                    _OS_VERSION,
                    _MODEL,
                    _string("screen", "screen on which the crash happened"),
                    _DEVICE_ID,
                    _USER_ID,
                    _string("network_status", "network status at the crash"),
                    _string("battery_status", "battery status at the crash"),
                    _string("platform_id", "Apptics platform id (PID)"),
                    _APP_VERSION,
                    _string("app_version_id", "Apptics app version id"),
                    _string("app_release_version", "app release version"),
                    _string("sdk_version", "Apptics SDK version (JAnalyticVersion)"),
                    Column("edge", "bool", "Apptics' Edge flag, as sent"),
                    Column("custom_properties", "json", "custom properties attached to the crash"),
                ),
                key_map={
                    "unique_message_id": "crash_id",
                    "happend_at": "happened_at",
                    "pid": "platform_id",
                    "j_analytic_version": "sdk_version",
                },
                max_app_versions=1,
                mode=True,
            ),
            Resource(
                "crash_os_versions",
                "/crash/{crash_id}/osversion",
                parsers.row_list,
                '{"data": [row...], "status": "success"}',
                columns=(_CRASH_ID, _OS_VERSION, _count("crash_count", "crashes on this OS version")),
                key_map={"count": "crash_count"},
                context=("crash_id",),
                paged=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "crash_device_models",
                "/crash/{crash_id}/devicemodel",
                parsers.row_list,
                "a bare [row...]",
                columns=(_CRASH_ID, _MODEL, _count("crash_count", "crashes on this device model")),
                key_map={"count": "crash_count"},
                context=("crash_id",),
                paged=True,
                max_app_versions=MAX_APP_VERSIONS,
                mode=True,
            ),
            Resource(
                "affected_devices",
                "/crash/affecteddevice",
                parsers.row_list,
                '{"data": [row...], "status": "success"}',
                columns=(
                    _DEVICE_ID,
                    _USER_ID,
                    _MODEL,
                    _OS_VERSION,
                    _APP_VERSION,
                    _HAPPENED_AT,
                    Column("date", "date", "day of the crash"),
                ),
                key_map={"happend_at": "happened_at"},
                paged=True,
                mode=True,
            ),
            Resource(
                "active_devices_by_date",
                "/activedevice/countbydate",
                parsers.platform_lists,
                _PLATFORM_LISTS,
                columns=(
                    _PLATFORM,
                    Column("bucket_start", "timestamp", "start of the time bucket, UTC"),
                    _count("active_devices", "devices active in the bucket"),
                ),
                key_map={"date": "bucket_start", "active_devices_count": "active_devices"},
                context=("platform",),
                paged=True,
                containers=parsers.page_values,
                platforms=True,
            ),
            Resource(
                "active_devices",
                "/activedevice/multigroup",
                parsers.multigroup,
                _NESTED,
                paged=True,
                platforms=True,
                group=("date", "platform"),
                group_entities=GROUP_ENTITIES,
            ),
            Resource(
                "event_summary",
                "/event/summary",
                parsers.platform_lists,
                _PLATFORM_LISTS,
                columns=(_PLATFORM, _EVENT_GROUP, _EVENT_NAME, _EVENT_COUNT),
                key_map=_EVENT_KEYS,
                context=("platform",),
                paged=True,
                containers=parsers.page_values,
                platforms=True,
            ),
            Resource(
                "event_counts_by_date",
                "/event/countbydate",
                parsers.platform_lists,
                _PLATFORM_LISTS,
                columns=(
                    _PLATFORM,
                    Column("bucket_start", "timestamp", "start of the time bucket, UTC"),
                    _EVENT_GROUP,
                    _EVENT_NAME,
                    _EVENT_COUNT,
                ),
                key_map={**_EVENT_KEYS, "date": "bucket_start"},
                context=("platform",),
                paged=True,
                containers=parsers.page_values,
                platforms=True,
            ),
            Resource(
                "event_counts_by_country",
                "/event/countrysummary",
                parsers.country_counts,
                '{"data": {"result": {country: count}, "userParams": {...}}, "status": 200}',
                columns=(_string("country", "country", nullable=False), _EVENT_COUNT),
                paged=True,
                platforms=True,
            ),
            Resource(
                "event_device_counts",
                "/event/devicecount",
                parsers.event_device_counts,
                '{"result": {"name(group)": count}, "status": 200}',
                columns=(
                    Column("window_start", "date", "first day of the window counted", nullable=False),
                    Column("window_end", "date", "last day of the window counted", nullable=False),
                    _string("event_name", "event name", nullable=False),
                    _EVENT_GROUP,
                    _count("device_count", "distinct devices that logged the event in the window"),
                ),
                paged=True,
                platforms=True,
                mode=True,
                max_days=60,
                requires=MappingProxyType({"bundle": "platforms"}),
            ),
            Resource(
                "screens",
                "/screen/multigroup",
                parsers.multigroup,
                _NESTED,
                paged=True,
                platforms=True,
                group=("date", "screen"),
                group_entities=(*GROUP_ENTITIES, "screen"),
            ),
            Resource(
                "api_stats",
                "/api/multigroup",
                parsers.multigroup,
                _NESTED,
                paged=True,
                platforms=True,
                group=("date", "api"),
                group_entities=(*GROUP_ENTITIES, "api"),
            ),
        )
    }
)
