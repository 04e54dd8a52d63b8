"""
The deterministic data model behind the sandbox's Apptics API.

Every number is a pure function of the seed and of the day, platform and entity it describes, computed
with keyed BLAKE2 hashes (never the global random generator, never the clock). A window's figures are sums
over its days, so overlapping windows agree on every day they share, and asking for other dates or
platforms gives other data. Nothing here knows about HTTP, envelopes or record field names: the API
renderer and the expected-records oracle each turn these plain values into their own shapes.

Default data is small and realistic: a pool of 30 crash issues over six platforms with a handful of
crashes per day, 19 events in six groups, 12 countries, 10 screens, 8 APIs. Dataset overrides
(``set_rows``) are served lazily: row ``i`` is computed from the seed and ``i`` alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal, NamedTuple

from airflow_provider_zoho.sandbox.data import (
    ALL_BUNDLES,
    ALL_DEVICE_TYPES,
    APIS,
    APP_VERSION_ID_BASE,
    APP_VERSIONS,
    APPLE_PLATFORMS,
    BATTERY_STATUSES,
    BUNDLES,
    COUNTRIES,
    DAY_MS,
    DEVICE_TYPES,
    DEVICES_PER_PLATFORM,
    EPOCH_ORDINAL,
    EVENTS,
    EXCEPTIONS,
    FRAMES,
    HOUR_MS,
    ISSUE_PLATFORMS,
    MAIN_PLATFORMS,
    MAX_OVERRIDE_ROWS,
    MODELS,
    NETWORK_STATUSES,
    OS_VERSIONS,
    OVERRIDE_CRASH_BASE,
    PLATFORM_IDS,
    PLATFORM_INDEX,
    PLATFORM_SCALE,
    PLATFORMS,
    POOL_CRASH_BASE,
    RELEASE_CHANNELS,
    SCREENS,
    USER_ID_BASE,
    VERSION_INDEX,
    WEEKDAY_FACTOR,
)
from airflow_provider_zoho.sandbox.query import AppticsRequestError, format_date

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_zoho.sandbox.query import Query


def day_ms(ordinal: int) -> int:
    """Epoch milliseconds of UTC midnight of the day with this proleptic ordinal."""
    return (ordinal - EPOCH_ORDINAL) * DAY_MS


def weekday_factor(ordinal: int) -> float:
    """Activity factor of the day with this proleptic ordinal (weekends are quieter)."""
    return WEEKDAY_FACTOR[(ordinal - 1) % 7]


def user_of(device_index: int) -> int:
    """The user (index within the platform) of a device: every five devices belong to four users."""
    return device_index * 4 // 5


def app_version_id(platform: str, version: str) -> int:
    """Numeric id of an app version on a platform (the API's ``AppVersionID``)."""
    if version in APP_VERSIONS:
        index = APP_VERSIONS.index(version)
    else:
        index = 50 + int.from_bytes(hashlib.blake2b(version.encode(), digest_size=2).digest(), "little") % 49
    return APP_VERSION_ID_BASE + PLATFORM_IDS[platform] * 100 + index


def _version_wanted(query: Query, issue: Issue) -> bool:
    """Whether the query's app version filter (if any) lets the issue through."""
    return not query.app_versions or issue.app_version in query.app_versions


def _override_figures(h: bytes, mode: int) -> tuple[int, int, int]:
    """Crashes, devices and users of a ``crashes`` override row, from its digest."""
    crashes = 1 + int(400 * (h[9] / 256.0) ** 3)
    if mode == 0:
        crashes = 1 + crashes // 8
    devices = 1 + (h[10] | h[11] << 8) % crashes
    users = 1 + (h[12] | h[13] << 8) % devices
    return crashes, devices, users


def _poisson(lam: float, u: float) -> int:
    """The Poisson(``lam``) quantile of ``u`` in [0, 1)."""
    if lam <= 0:
        return 0
    p = math.exp(-lam)
    cumulative, k = p, 0
    while u > cumulative and k < 1000:
        k += 1
        p *= lam / k
        cumulative += p
    return k


#: The cube (see :meth:`AppticsModel.multigroup`) behind each multigroup resource.
MULTIGROUP_KINDS: dict[str, str] = {"active_devices": "active", "screens": "screens", "api_stats": "api"}
#: The device attributes crashes are broken down by (``/crash/{id}/osversion`` and ``/devicemodel``).
DeviceAttribute = Literal["os_version", "model"]


class Issue(NamedTuple):
    """A crash issue (the API's ``UniqueMessageID``) with its fixed attributes."""

    crash_id: str
    platform: str
    app_version: str
    status: int
    exception_type: str
    exception: str
    screen: str
    rate: float
    device_pool: int
    device_offset: int


class Device(NamedTuple):
    """One device of a platform's population."""

    device_id: str
    user_id: int
    model: str
    os_version: str


class Occurrence(NamedTuple):
    """One crash: when it happened (epoch ms) and on which device of the platform."""

    time_ms: int
    device_index: int


class IssueDay(NamedTuple):
    """One issue's crashes on one day."""

    crashes: int
    devices: int
    users: int
    occurrences: tuple[Occurrence, ...]


class Counts(NamedTuple):
    """Crash, device, user and issue counts of a bucket or a window."""

    crashes: int
    devices: int
    users: int
    issues: int


class Bucket(NamedTuple):
    """Counts of one count-by-date bucket starting at ``start_ms``."""

    start_ms: int
    counts: Counts


class CrashRow(NamedTuple):
    """One row of the crash list: an issue with its counts over the window."""

    issue: Issue
    crashes: int
    devices: int
    users: int


class CrashSummary(NamedTuple):
    """Totals of the window and of the window of the same length just before it."""

    current: Counts
    previous: Counts
    crash_free_users: float | int


class CrashDetail(NamedTuple):
    """The latest crash of an issue in the window, with its context."""

    issue: Issue
    time_ms: int
    session_start_ms: int
    device: Device
    network_status: str
    battery_status: str
    edge: bool
    message: str
    custom_properties: dict[str, str]


class AffectedDevice(NamedTuple):
    """One crash on one device (a row of ``/crash/affecteddevice``)."""

    time_ms: int
    app_version: str
    device: Device


class Project(NamedTuple):
    """A project of the portal (``/userprojects``)."""

    portal_id: str
    portal_name: str
    project_id: str
    project_name: str
    platforms: list[str]


class Dataset(NamedTuple):
    """
    Dataset overrides in force for one request.

    :param rows: exact row count of the resource (``set_rows``), or ``None`` for the default data.
    :param ignore_offset: serve the first page whatever the offset (``set_ignore_offset``).
    :param crash_rows: the ``crashes`` override size, so its crash ids resolve on ``/crash/{id}/...``.
    :param quirk_days: ``(quirk, day ordinals)`` pairs of the resource (``set_quirks``).
    """

    rows: int | None = None
    ignore_offset: bool = False
    crash_rows: int | None = None
    quirk_days: tuple[tuple[str, frozenset[int]], ...] = ()

    def quirks(self, query: Query) -> frozenset[str]:
        """The quirks in force for ``query``: those whose days include every day of its window."""
        return frozenset(quirk for quirk, days in self.quirk_days if all(o in days for o in query.ordinals))


@dataclass(frozen=True)
class _Weights:
    base: int
    dims: dict[str, tuple[int, ...]]


class AppticsModel:
    """
    Deterministic Apptics data for one seed.

    :param seed: any value; its ``str()`` keys every hash, so equal seeds give equal data.
    :param portal_id: the portal (``zsoid``) served.
    :param project_id: the project served.
    """

    def __init__(self, seed: object = 0, portal_id: str = "766556673", project_id: str = "782000000004007"):
        self.seed = seed
        self.portal_id = str(portal_id)
        self.project_id = str(project_id)
        self._prefix = f"zoho-sandbox|{seed}|".encode()
        self.issues: tuple[Issue, ...] = tuple(self._pool_issue(i) for i in range(len(ISSUE_PLATFORMS)))
        self._issues_by_id = {issue.crash_id: issue for issue in self.issues}
        self._event_rates = tuple(self._event_rate(i) for i in range(len(EVENTS)))
        # Per-instance caches (lru_cache is thread-safe); hot values are recomputed cheaply when evicted.
        self.issue_day = lru_cache(maxsize=131_072)(self._issue_day)
        self.device = lru_cache(maxsize=16_384)(self._device)
        self._cube = lru_cache(maxsize=65_536)(self._cube_uncached)
        self._events_day = lru_cache(maxsize=65_536)(self._events_day_uncached)
        self._override_occurrences = lru_cache(maxsize=1024)(self._override_occurrences_uncached)

    # ------------------------------------------------------------------ hashing
    def digest(self, *parts: object, size: int = 16) -> bytes:
        """Keyed, seed-dependent digest of ``parts`` (up to 64 bytes)."""
        data = self._prefix + "|".join(map(str, parts)).encode()
        return hashlib.blake2b(data, digest_size=size).digest()

    def u64(self, *parts: object) -> int:
        return int.from_bytes(self.digest(*parts, size=8), "little")

    def unit(self, *parts: object) -> float:
        """A uniform number in [0, 1)."""
        return self.u64(*parts) / 18446744073709551616.0

    # ------------------------------------------------------------------ catalog
    def projects(self) -> list[Project]:
        return [Project(self.portal_id, "Acme", self.project_id, "Acme Mobile", list(PLATFORMS))]

    def _pool_issue(self, index: int) -> Issue:
        platform = ISSUE_PLATFORMS[index]
        h = self.digest("issue", index, size=32)
        exception_type, exception = EXCEPTIONS[platform][h[0] % len(EXCEPTIONS[platform])]
        x = h[1] / 256.0
        rate = (0.15 + 5.0 * x**3) * (1.0 if platform in MAIN_PLATFORMS else 0.5)
        return Issue(
            crash_id=str(POOL_CRASH_BASE + 1000 * index),
            platform=platform,
            app_version=APP_VERSIONS[min(h[2] % 6, 3)],
            status=(1, 1, 1, 2, 1, 3)[h[3] % 6],
            exception_type=exception_type,
            exception=exception,
            screen=SCREENS[h[4] % len(SCREENS)],
            rate=rate,
            device_pool=3 + int.from_bytes(h[5:7], "little") % 40,
            device_offset=int.from_bytes(h[7:9], "little") % DEVICES_PER_PLATFORM,
        )

    @staticmethod
    def override_crash_id(index: int, platform: str, app_version: str) -> str:
        """Crash id of override row ``index``; it encodes the row's platform and app version."""
        version_index = VERSION_INDEX.get(app_version, 15)
        return str(OVERRIDE_CRASH_BASE + (index * 6 + PLATFORM_INDEX[platform]) * 16 + version_index)

    def _override_issue(self, crash_id: int, rows: int | None) -> Issue | None:
        index, rest = divmod(crash_id - OVERRIDE_CRASH_BASE, 96)
        platform_index, version_index = divmod(rest, 16)
        if rows is None or index >= rows or platform_index >= len(PLATFORMS):
            return None
        if version_index >= len(APP_VERSIONS) and version_index != 15:
            return None
        version = APP_VERSIONS[min(version_index, len(APP_VERSIONS) - 1)]
        h = self.digest("override-issue", index, size=16)
        return self._override_issue_from(str(crash_id), PLATFORMS[platform_index], version, h)

    @staticmethod
    def _override_issue_from(crash_id: str, platform: str, version: str, h: bytes) -> Issue:
        exceptions = EXCEPTIONS[platform]
        exception_type, exception = exceptions[h[0] % len(exceptions)]
        return Issue(
            crash_id,
            platform,
            version,
            (1, 1, 2, 3)[h[1] % 4],
            exception_type,
            exception,
            SCREENS[h[2] % len(SCREENS)],
            0.2 + 3.0 * (h[3] / 256.0) ** 2,
            3 + h[4] % 40,
            (h[5] | h[6] << 8) % DEVICES_PER_PLATFORM,
        )

    def find_issue(self, crash_id: str, crash_rows: int | None = None) -> Issue | None:
        """
        The issue with this id: one of the pool, or a row of a ``crashes`` dataset override.

        :param crash_id: the ``UniqueMessageID``.
        :param crash_rows: the current ``crashes`` override size, if one is set.
        """
        issue = self._issues_by_id.get(crash_id)
        if issue is not None:
            return issue
        if crash_id.isdigit() and 0 <= int(crash_id) - OVERRIDE_CRASH_BASE < MAX_OVERRIDE_ROWS * 96:
            return self._override_issue(int(crash_id), crash_rows)
        return None

    def issue_for(self, query: Query, dataset: Dataset) -> Issue | None:
        """
        The issue named by the path of a ``/crash/{crash_id}/...`` request.

        :return: the issue, or ``None`` when the resource serves a dataset override (any id will do).
        :raises AppticsRequestError: 404 ``INVALID_UNIQUEID`` when no issue has this id.
        """
        if dataset.rows is not None:
            return None
        issue = self.find_issue(query.crash_id or "", dataset.crash_rows)
        if issue is None:
            raise AppticsRequestError(404, "INVALID_UNIQUEID", f"no crash issue with id {query.crash_id}")
        return issue

    def _device(self, platform: str, index: int) -> Device:
        h = self.digest("device", platform, index, size=20).hex().upper()
        raw = bytes.fromhex(h[:8])
        return Device(
            device_id=f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}",
            user_id=USER_ID_BASE + PLATFORM_IDS[platform] * 1_000_000 + user_of(index),
            model=MODELS[platform][raw[0] % len(MODELS[platform])],
            os_version=OS_VERSIONS[platform][min(raw[1] % 7, len(OS_VERSIONS[platform]) - 1)],
        )

    # ------------------------------------------------------------------ crashes
    def _issue_day(self, issue: Issue, ordinal: int, mode: int) -> IssueDay:
        lam = issue.rate * weekday_factor(ordinal) * (1.0 if mode else 0.15)
        count = _poisson(lam, self.unit("crash", issue.crash_id, ordinal, mode))
        if count == 0:
            return IssueDay(0, 0, 0, ())
        start = day_ms(ordinal)
        occurrences = []
        for k in range(count):
            v = int.from_bytes(self.digest("occurrence", issue.crash_id, ordinal, mode, k, size=12), "little")
            slot = (v >> 40) % issue.device_pool
            device_index = (issue.device_offset + slot * 7) % DEVICES_PER_PLATFORM
            occurrences.append(Occurrence(start + v % DAY_MS, device_index))
        occurrences.sort()
        devices = {o.device_index for o in occurrences}
        users = {user_of(d) for d in devices}
        return IssueDay(count, len(devices), len(users), tuple(occurrences))

    def _filtered_issues(self, query: Query, platforms: Iterable[str] | None = None) -> list[Issue]:
        wanted = set(query.platforms if platforms is None else platforms)
        versions = set(query.app_versions)
        return [
            issue
            for issue in self.issues
            if issue.platform in wanted and (not versions or issue.app_version in versions)
        ]

    def counts(self, issues: Iterable[Issue], ordinals: range, query: Query) -> Counts:
        """
        The crash figures of ``issues`` over the days ``ordinals``: every window, row and daily bucket.

        Crashes, devices and users are sums of the issues' days (a device that crashes on two days, or in
        two issues, counts twice, as the API's figures do); ``issues`` counts the issues that crashed.
        """
        crashes = devices = users = active_issues = 0
        for issue in issues:
            issue_crashes = 0
            for ordinal in ordinals:
                day = self.day(issue, ordinal, query)
                issue_crashes += day.crashes
                devices += day.devices
                users += day.users
            crashes += issue_crashes
            active_issues += issue_crashes > 0
        return Counts(crashes, devices, users, active_issues)

    def crash_list(self, query: Query) -> list[CrashRow]:
        """Issues with crashes in the window, filtered by platform and app version, most crashes first."""
        rows = []
        for issue in self._filtered_issues(query):
            counts = self.counts((issue,), query.ordinals, query)
            if counts.crashes:
                rows.append(CrashRow(issue, counts.crashes, counts.devices, counts.users))
        rows.sort(key=lambda row: (-row.crashes, row.issue.crash_id))
        return rows

    def crash_override_row(self, index: int, query: Query) -> CrashRow:
        """Row ``index`` of a ``crashes`` dataset override (computed alone, never the whole list)."""
        h = self.digest("override-issue", index, size=16)
        platform = query.platforms[index % len(query.platforms)]
        versions = query.app_versions or APP_VERSIONS
        version = versions[h[8] % len(versions)]
        issue = self._override_issue_from(
            self.override_crash_id(index, platform, version), platform, version, h
        )
        return CrashRow(issue, *_override_figures(h, query.mode))

    def day(self, issue: Issue, ordinal: int, query: Query) -> IssueDay:
        """
        One issue's crashes on one day of the query's window.

        A pool issue's days depend on the day alone; an issue of a ``crashes`` override spreads the
        crashes its list row shows over the query's window, so the per-crash endpoints agree with the
        list (crashes by OS version, by device model and by date add up to the row's crash count).
        """
        if issue.crash_id in self._issues_by_id:
            return self.issue_day(issue, ordinal, query.mode)
        occurrences = tuple(
            o
            for o in self._override_occurrences(issue, query.ordinals.start, query.ordinals.stop, query.mode)
            if day_ms(ordinal) <= o.time_ms < day_ms(ordinal + 1)
        )
        devices = {o.device_index for o in occurrences}
        return IssueDay(len(occurrences), len(devices), len({user_of(d) for d in devices}), occurrences)

    def _override_occurrences_uncached(
        self, issue: Issue, start: int, stop: int, mode: int
    ) -> list[Occurrence]:
        index = (int(issue.crash_id) - OVERRIDE_CRASH_BASE) // 96
        crashes, devices, _ = _override_figures(self.digest("override-issue", index, size=16), mode)
        span = (stop - start) * DAY_MS
        found = []
        for k in range(crashes):  # evenly spread, each at a seeded moment of its slice of the window
            slot_start, slot_end = (k * span) // crashes, ((k + 1) * span) // crashes
            moment = self.u64("override-occurrence", issue.crash_id, k, mode) % max(1, slot_end - slot_start)
            device_index = (issue.device_offset + (k % devices) * 7) % DEVICES_PER_PLATFORM
            found.append(Occurrence(day_ms(start) + slot_start + moment, device_index))
        return found

    def release_channel(self, query: Query) -> str:
        """The value of the ``extra_field`` quirk's key for the query's window."""
        return RELEASE_CHANNELS[self.u64("release-channel", query.start, query.end) % len(RELEASE_CHANNELS)]

    def active_total(self, query: Query, ordinals: range) -> int:
        return sum(self.cube_total("active", platform, o) for platform in query.platforms for o in ordinals)

    def crash_summary(self, query: Query, integer_rate: bool = False) -> CrashSummary:
        """
        The window's crash totals, the previous window's, and the crash-free users rate.

        :param integer_rate: send the rate as a whole number (the ``integer_rate`` quirk: ``99``, not
            ``99.5``).
        """
        issues = self._filtered_issues(query)
        days = len(query.ordinals)
        previous = range(query.ordinals.start - days, query.ordinals.start)
        current_counts = self.counts(issues, query.ordinals, query)
        previous_counts = self.counts(issues, previous, query)
        active = self.active_total(query, query.ordinals)
        free = 100.0 * (1.0 - current_counts.users / active) if active else 100.0
        rate = round(max(free, 0.0), 2)
        return CrashSummary(current_counts, previous_counts, round(rate) if integer_rate else rate)

    def _buckets(self, issues: list[Issue], query: Query) -> list[Bucket]:
        if not query.hourly:
            return [
                Bucket(day_ms(ordinal), self.counts(issues, range(ordinal, ordinal + 1), query))
                for ordinal in query.ordinals
            ]
        # One day: hourly buckets, devices and users counted once per issue and hour.
        ordinal = query.ordinals.start
        start = day_ms(ordinal)
        totals = [[0, 0, 0, 0] for _ in range(24)]
        for issue in issues:
            per_hour: dict[int, set[int]] = {}
            hour_crashes = [0] * 24
            for occurrence in self.day(issue, ordinal, query).occurrences:
                hour = (occurrence.time_ms - start) // HOUR_MS
                hour_crashes[hour] += 1
                per_hour.setdefault(hour, set()).add(occurrence.device_index)
            for hour, hit in per_hour.items():
                slot = totals[hour]
                slot[0] += hour_crashes[hour]
                slot[1] += len(hit)
                slot[2] += len({user_of(d) for d in hit})
                slot[3] += 1
        return [Bucket(start + hour * HOUR_MS, Counts(*totals[hour])) for hour in range(24)]

    def crash_buckets(self, query: Query, platform: str) -> list[Bucket]:
        """Daily (or, for a one-day window, hourly) crash counts of one platform."""
        return self._buckets(self._filtered_issues(query, (platform,)), query)

    def issue_buckets(self, query: Query, issue: Issue) -> list[Bucket]:
        """Daily (or hourly) counts of one issue; all zero when its app version is filtered out."""
        return self._buckets([issue] if _version_wanted(query, issue) else [], query)

    def _issue_occurrences(self, query: Query, issue: Issue) -> list[Occurrence]:
        if not _version_wanted(query, issue):
            return []
        found: list[Occurrence] = []
        for ordinal in query.ordinals:
            found.extend(self.day(issue, ordinal, query).occurrences)
        return found

    def crash_detail(self, query: Query, issue: Issue) -> CrashDetail | None:
        """The latest crash of the issue in the window, or ``None`` when it did not crash then."""
        if not _version_wanted(query, issue):
            return None
        for ordinal in reversed(query.ordinals):
            occurrences = self.day(issue, ordinal, query).occurrences
            if occurrences:
                latest = occurrences[-1]
                break
        else:
            return None
        h = self.digest("detail", issue.crash_id, latest.time_ms, size=16)
        family = "apple" if issue.platform in APPLE_PLATFORMS else issue.platform
        frames = "\n".join(FRAMES[family])
        return CrashDetail(
            issue=issue,
            time_ms=latest.time_ms,
            session_start_ms=latest.time_ms - int.from_bytes(h[0:4], "little") % 1_800_000,
            device=self.device(issue.platform, latest.device_index),
            network_status=NETWORK_STATUSES[h[4] % len(NETWORK_STATUSES)],
            battery_status=BATTERY_STATUSES[h[5] % len(BATTERY_STATUSES)],
            edge=bool(h[6] % 5 == 0),
            message=f"{issue.exception_type}: {issue.exception}\n{frames}",
            custom_properties={
                "plan": ("free", "pro", "team")[h[7] % 3],
                "locale": ("en_US", "en_GB", "de_DE", "hi_IN", "ja_JP")[h[8] % 5],
                "ab_group": "AB"[h[9] % 2],
            },
        )

    def crashes_by_device(
        self, query: Query, issue: Issue, attribute: DeviceAttribute
    ) -> list[tuple[str, int]]:
        """
        Crashes of the issue per value of a device attribute, most first (ties by value).

        :param attribute: ``os_version`` or ``model``.
        """
        counts: dict[str, int] = {}
        for occurrence in self._issue_occurrences(query, issue):
            value = getattr(self.device(issue.platform, occurrence.device_index), attribute)
            counts[value] = counts.get(value, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def device_override_row(self, index: int, query: Query, attribute: DeviceAttribute) -> tuple[str, int]:
        """Row ``index`` of a ``crash_os_versions`` or ``crash_device_models`` dataset override."""
        if attribute == "os_version":
            h = self.digest("override-os", query.crash_id, index, query.mode, size=8)
            version = f"{10 + index % 9}.{(index // 9) % 10}.{index // 90}"
            return version, 1 + int.from_bytes(h, "little") % 250
        h = self.digest("override-model", query.crash_id, index, query.mode, size=8)
        family = MODELS[PLATFORMS[h[0] % 2]]
        return f"{family[h[1] % len(family)]} #{index}", 1 + int.from_bytes(h[2:], "little") % 250

    def affected_devices(self, query: Query) -> list[AffectedDevice]:
        """Every crash in the window on every platform, oldest first."""
        found: list[tuple[int, str, int]] = []
        for issue in self.issues:
            for ordinal in query.ordinals:
                for occurrence in self.day(issue, ordinal, query).occurrences:
                    found.append((occurrence.time_ms, issue.crash_id, occurrence.device_index))
        found.sort()
        rows = []
        for time_ms, crash_id, device_index in found:
            issue = self._issues_by_id[crash_id]
            rows.append(AffectedDevice(time_ms, issue.app_version, self.device(issue.platform, device_index)))
        return rows

    def affected_override_row(self, index: int, total: int, query: Query) -> AffectedDevice:
        h = self.digest("override-affected", index, query.mode, size=16)
        platform = PLATFORMS[h[0] % 2 if h[1] % 8 else h[0] % len(PLATFORMS)]
        span = len(query.ordinals) * DAY_MS
        time_ms = day_ms(query.ordinals.start) + (index * span) // max(total, 1)
        device = self.device(platform, int.from_bytes(h[2:6], "little") % DEVICES_PER_PLATFORM)
        return AffectedDevice(time_ms, APP_VERSIONS[h[6] % len(APP_VERSIONS)], device)

    # ------------------------------------------------------------------ devices, screens, APIs
    def _cube_stable(self, kind: str, platform: str) -> dict[str, tuple[int, ...]]:
        """Long-run weights of every dimension value (the daily weights wobble around them)."""
        h = self.digest("cube-stable", kind, platform, size=64)
        dims: dict[str, tuple[int, ...]] = {
            "bundle": tuple(3 + h[0] % 3 if i == 0 else h[1 + i] % 2 for i in range(len(BUNDLES[platform]))),
            "country": tuple(h[4 + i] % 5 for i in range(len(COUNTRIES))),
            "appversion": tuple(i + h[16 + i] % 2 for i in range(len(APP_VERSIONS))),
            "devicetype": tuple(
                2 + h[20] % 2 if i == 0 else h[21 + i] % 2 for i in range(len(DEVICE_TYPES[platform]))
            ),
        }
        if kind == "screens":
            dims["screen"] = tuple(1 + h[24 + i] % 8 for i in range(len(SCREENS)))
        elif kind == "api":
            dims["api"] = tuple(1 + h[40 + i] % 8 for i in range(len(APIS)))
        return dims

    def _cube_uncached(self, kind: str, platform: str, ordinal: int) -> _Weights:
        h = self.digest("cube", kind, platform, ordinal, size=64)
        weekday = weekday_factor(ordinal)
        base = max(1, round(PLATFORM_SCALE[platform] * weekday * (8 + h[0] % 5) / 10))
        dims: dict[str, tuple[int, ...]] = {}
        position = 1
        for dimension, stable in self._cube_stable(kind, platform).items():
            dims[dimension] = tuple(w + (h[position + i] % 3 == 0) for i, w in enumerate(stable))
            position += len(stable)
        return _Weights(base, dims)

    @staticmethod
    def dimension_values(dimension: str, platform: str) -> tuple[str, ...]:
        """The values a multigroup dimension takes on a platform, in their canonical order."""
        if dimension == "bundle":
            return BUNDLES[platform]
        if dimension == "devicetype":
            return DEVICE_TYPES[platform]
        return {"country": COUNTRIES, "appversion": APP_VERSIONS, "screen": SCREENS, "api": APIS}[dimension]

    def cube_total(self, kind: str, platform: str, ordinal: int) -> int:
        weights = self._cube(kind, platform, ordinal)
        total = weights.base
        for values in weights.dims.values():
            total *= sum(values)
        return total

    def multigroup(self, kind: str, query: Query) -> list[tuple[tuple[str, ...], int]]:
        """
        Counts of a multigroup resource (``active``, ``screens`` or ``api``) by the query's group.

        The model is a cube per platform and day: a base count and, for each dimension (bundle, country,
        app version, device type, and screen or API), one weight per value; a cell's count is the base
        times the weight of each of its values, so grouping by some dimensions sums the others out. A
        filter (``bundle``, ``screenname``, ``apiname``) zeroes the weights of the other values. Cells are
        keyed by sortable indexes (the day's ordinal, the platform's position in the request, a value's
        position in the catalog), added up over platforms and days (two platforms may share a bundle or a
        device type, and a group without ``date`` adds the days up), then named.

        :return: ``(values, count)`` pairs, ``values`` in group order (dates as ``dd-MM-yyyy``), in
            canonical order (dates ascending, platforms as requested, other values in catalog order);
            cells whose count is zero are left out.
        """
        filters = {
            "bundle": query.filter("bundle"),
            "screen": query.filter("screenname"),
            "api": query.filter("apiname"),
        }
        totals: dict[tuple[int, ...], int] = {}
        for platform_index, platform in enumerate(query.platforms):
            for ordinal in query.ordinals:
                for local, count in self._day_cells(kind, platform, ordinal, query.group, filters):
                    key = tuple(
                        ordinal
                        if dimension == "date"
                        else platform_index
                        if dimension == "platform"
                        else self._canonical_index(dimension, platform, local[position])
                        for position, dimension in enumerate(query.group)
                    )
                    totals[key] = totals.get(key, 0) + count
        return [(self._cell_names(key, query), totals[key]) for key in sorted(totals)]

    def _day_cells(
        self, kind: str, platform: str, ordinal: int, group: tuple[str, ...], filters: dict[str, str | None]
    ) -> list[tuple[dict[int, int], int]]:
        """
        The non-zero cells of one platform's day, grouped by the cube dimensions of ``group``.

        :return: ``(values, count)`` pairs; ``values`` maps a position in ``group`` to the index of the
            value within the platform's values of that dimension (``date`` and ``platform`` are not cube
            dimensions: the caller fills them in).
        """
        weights = self._cube(kind, platform, ordinal)
        factor = weights.base
        grouped: list[tuple[int, tuple[int, ...]]] = []
        for dimension, values in weights.dims.items():
            wanted = filters.get(dimension)
            if wanted is not None:
                options = self.dimension_values(dimension, platform)
                values = tuple(w if v == wanted else 0 for v, w in zip(options, values, strict=True))
            if dimension not in group:
                factor *= sum(values)  # summed out
            else:
                grouped.append((group.index(dimension), values))
        if factor == 0:
            return []
        # The cross product of the grouped dimensions' values, zero weights skipped.
        cells: list[tuple[dict[int, int], int]] = [({}, factor)]
        for position, values in grouped:
            cells = [
                ({**key, position: i}, count * weight)
                for key, count in cells
                for i, weight in enumerate(values)
                if weight
            ]
        return cells

    def _cell_names(self, key: tuple[int, ...], query: Query) -> tuple[str, ...]:
        """The values a multigroup cell key stands for, in group order."""
        names: list[str] = []
        for dimension, index in zip(query.group, key, strict=True):
            if dimension == "date":
                names.append(format_date(dt.date.fromordinal(index)))
            elif dimension == "platform":
                names.append(query.platforms[index])
            else:
                names.append(self._canonical_values(dimension)[index])
        return tuple(names)

    @staticmethod
    def _canonical_values(dimension: str) -> tuple[str, ...]:
        if dimension == "bundle":
            return ALL_BUNDLES
        if dimension == "devicetype":
            return ALL_DEVICE_TYPES
        return {"country": COUNTRIES, "appversion": APP_VERSIONS, "screen": SCREENS, "api": APIS}[dimension]

    def _canonical_index(self, dimension: str, platform: str, local: int) -> int:
        value = self.dimension_values(dimension, platform)[local]
        return self._canonical_values(dimension).index(value)

    def active_by_date(self, query: Query, platform: str) -> list[tuple[int, int]]:
        """``(day epoch ms, active devices)`` of one platform for every day of the window."""
        return [(day_ms(o), self.cube_total("active", platform, o)) for o in query.ordinals]

    # ------------------------------------------------------------------ events
    def _event_rate(self, index: int) -> tuple[int, frozenset[str]]:
        h = self.digest("event", index, size=8)
        group = EVENTS[index][0]
        rate = 40 + h[0] % 60 if group.startswith("j_") else 2 + h[0] % 25
        absent = frozenset(
            platform
            for i, platform in enumerate(PLATFORMS)
            if not group.startswith("j_") and h[1 + i] % 4 == 0
        )
        return rate, absent

    def _events_day_uncached(self, platform: str, ordinal: int, mode: int) -> tuple[tuple[int, int], ...]:
        h = self.digest("events-day", platform, ordinal, size=64)
        weekday = weekday_factor(ordinal)
        result = []
        for index, (rate, absent) in enumerate(self._event_rates):
            if platform in absent:
                result.append((0, 0))
                continue
            count = int(rate * PLATFORM_SCALE[platform] * weekday * (h[index] % 128) / 128)
            devices = 0
            if count:
                share = 25 + h[index + 32] % 60
                devices = max(1, count * share // 100)
                if mode == 0:
                    devices = devices // 12
            result.append((count, devices))
        return tuple(result)

    def event_summary(self, query: Query, platform: str) -> list[tuple[str, str, int]]:
        """``(group, name, count)`` of the events of one platform over the window, most first."""
        totals = [0] * len(EVENTS)
        for ordinal in query.ordinals:
            for index, (count, _) in enumerate(self._events_day(platform, ordinal, 1)):
                totals[index] += count
        rows = [(EVENTS[i][0], EVENTS[i][1], total) for i, total in enumerate(totals) if total]
        rows.sort(key=lambda row: (-row[2], row[0], row[1]))
        return rows

    def event_by_date(self, query: Query, platform: str) -> list[tuple[int, str, str, int]]:
        """``(day epoch ms, group, name, count)`` per day and event of one platform."""
        rows = []
        for ordinal in query.ordinals:
            start = day_ms(ordinal)
            for index, (count, _) in enumerate(self._events_day(platform, ordinal, 1)):
                if count:
                    rows.append((start, EVENTS[index][0], EVENTS[index][1], count))
        return rows

    def event_countries(self, query: Query) -> list[tuple[str, int]]:
        """``(country, events)`` over the window and the requested platforms, by country name."""
        totals = [0] * len(COUNTRIES)
        for platform in query.platforms:
            for ordinal in query.ordinals:
                day_total = sum(count for count, _ in self._events_day(platform, ordinal, 1))
                if not day_total:
                    continue
                h = self.digest("event-country", platform, ordinal, size=16)
                weights = [h[i] % 7 for i in range(len(COUNTRIES))]
                weight_sum = sum(weights) or 1
                for i, weight in enumerate(weights):
                    totals[i] += day_total * weight // weight_sum
        return [(country, total) for country, total in zip(COUNTRIES, totals, strict=True) if total]

    def event_devices(self, query: Query) -> list[tuple[str, str, int]]:
        """
        ``(group, name, unique devices)`` per event over the window, in catalog order.

        Unique devices of a window are not the sum of its days: the busiest day counts whole and the other
        days add a third of theirs, so windows cannot be added up (as with the real API).
        """
        result = []
        for index, (group, name) in enumerate(EVENTS):
            per_day = [
                sum(self._events_day(platform, ordinal, query.mode)[index][1] for platform in query.platforms)
                for ordinal in query.ordinals
            ]
            busiest = max(per_day, default=0)
            unique = busiest + (sum(per_day) - busiest) // 3
            if unique:
                result.append((group, name, unique))
        return result
