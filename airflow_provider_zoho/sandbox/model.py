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
from typing import TYPE_CHECKING, NamedTuple

from airflow_provider_zoho.sandbox.query import AppticsRequestError, format_date

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_zoho.sandbox.query import Query

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

PLATFORM_IDS: dict[str, int] = {"Android": 1, "iOS": 2, "macOS": 3, "tvOS": 4, "watchOS": 5, "Windows": 6}
PLATFORM_ORDER: tuple[str, ...] = ("iOS", "Android", "macOS", "tvOS", "watchOS", "Windows")
PLATFORM_SCALE: dict[str, int] = {"iOS": 6, "Android": 8, "macOS": 2, "tvOS": 1, "watchOS": 1, "Windows": 2}
APP_VERSIONS: tuple[str, ...] = ("2.3.0", "2.3.1", "2.4.0", "2.4.1")
SDK_VERSIONS: dict[str, str] = {
    "iOS": "3.2.1",
    "Android": "2.4.0",
    "macOS": "3.2.1",
    "tvOS": "3.2.1",
    "watchOS": "3.2.1",
    "Windows": "1.6.2",
}
BUNDLES: dict[str, tuple[str, ...]] = {
    "iOS": ("com.acme.mobile", "com.acme.mobile.widget"),
    "Android": ("com.acme.mobile", "com.acme.mobile.lite"),
    "macOS": ("com.acme.desktop",),
    "tvOS": ("com.acme.tv",),
    "watchOS": ("com.acme.mobile.watchkitapp",),
    "Windows": ("Acme.Desktop",),
}
DEVICE_TYPES: dict[str, tuple[str, ...]] = {
    "iOS": ("Mobile", "Tablet"),
    "Android": ("Mobile", "Tablet", "TV"),
    "macOS": ("Desktop",),
    "tvOS": ("TV",),
    "watchOS": ("Watch",),
    "Windows": ("Desktop", "Tablet"),
}
COUNTRIES: tuple[str, ...] = (
    "AUSTRALIA",
    "BRAZIL",
    "CANADA",
    "FRANCE",
    "GERMANY",
    "INDIA",
    "JAPAN",
    "MEXICO",
    "SPAIN",
    "UNITED ARAB EMIRATES",
    "UNITED KINGDOM",
    "UNITED STATES",
)
SCREENS: tuple[str, ...] = (
    "HomeScreen",
    "LoginScreen",
    "SearchScreen",
    "ProductDetailScreen",
    "CartScreen",
    "CheckoutScreen",
    "OrderHistoryScreen",
    "ProfileScreen",
    "SettingsScreen",
    "NotificationsScreen",
)
APIS: tuple[str, ...] = (
    "/api/v2/login",
    "/api/v2/profile",
    "/api/v2/products",
    "/api/v2/products/search",
    "/api/v2/cart",
    "/api/v2/orders",
    "/api/v2/checkout",
    "/api/v2/notifications",
)
EVENTS: tuple[tuple[str, str], ...] = (
    ("j_applifecycle", "ja_application_launched"),
    ("j_applifecycle", "ja_application_foreground"),
    ("j_applifecycle", "ja_application_background"),
    ("j_applifecycle", "ja_application_terminated"),
    ("j_session", "ja_session_start"),
    ("j_session", "ja_session_end"),
    ("Onboarding", "Signup_Started"),
    ("Onboarding", "Signup_Completed"),
    ("Onboarding", "Tutorial_Skipped"),
    ("Commerce", "Product_Viewed"),
    ("Commerce", "Added_To_Cart"),
    ("Commerce", "Checkout_Started"),
    ("Commerce", "Purchase_Completed"),
    ("AppStore", "Ratings_Given"),
    ("AppStore", "Review_Prompt_Shown"),
    ("Engagement", "Search_Performed"),
    ("Engagement", "Share_Tapped"),
    ("Engagement", "Notification_Opened"),
    ("Engagement", "Settings_Changed"),
)
MODELS: dict[str, tuple[str, ...]] = {
    "iOS": ("iPhone14,5", "iPhone14,7", "iPhone15,2", "iPhone15,4", "iPhone16,1", "iPad13,18", "iPad14,1"),
    "Android": ("SM-G991B", "SM-A546E", "Pixel 7", "Pixel 8 Pro", "Redmi Note 12", "CPH2451", "moto g54"),
    "macOS": ("MacBookPro18,3", "Mac14,2", "Macmini9,1"),
    "tvOS": ("AppleTV11,1", "AppleTV6,2"),
    "watchOS": ("Watch6,14", "Watch7,3"),
    "Windows": ("Surface Laptop 5", "XPS 13 9315", "ThinkPad X1 Carbon"),
}
OS_VERSIONS: dict[str, tuple[str, ...]] = {
    "iOS": ("16.7.8", "17.4.1", "17.5.1", "18.0", "18.1.1"),
    "Android": ("11", "12", "13", "14", "15"),
    "macOS": ("13.6.7", "14.5", "15.1"),
    "tvOS": ("17.5", "18.1"),
    "watchOS": ("10.5", "11.1"),
    "Windows": ("10.0.19045", "10.0.22631"),
}
_APPLE_EXCEPTIONS = (
    ("NSInvalidArgumentException", "-[__NSArrayM objectAtIndex:]: index 3 beyond bounds [0 .. 2]"),
    ("NSRangeException", "*** -[__NSCFString substringToIndex:]: Index 40 out of bounds; string length 12"),
    ("NSInternalInconsistencyException", "Invalid update: invalid number of rows in section 0"),
    ("EXC_BAD_ACCESS", "SIGSEGV: Attempted to dereference garbage pointer 0x10"),
    ("SIGABRT", "Fatal error: Unexpectedly found nil while unwrapping an Optional value"),
    ("NSGenericException", "*** Collection <__NSArrayM: 0x2830> was mutated while being enumerated."),
)
_ANDROID_EXCEPTIONS = (
    (
        "java.lang.NullPointerException",
        "Attempt to invoke virtual method 'int java.lang.String.length()' on a null object reference",
    ),
    ("java.lang.IllegalStateException", "Fragment OrderListFragment not attached to a context."),
    ("java.lang.IndexOutOfBoundsException", "Index: 4, Size: 4"),
    ("java.lang.OutOfMemoryError", "Failed to allocate a 31961104 byte allocation with 25165824 free bytes"),
    ("android.view.WindowManager$BadTokenException", "Unable to add window -- token null is not valid"),
    ("java.util.ConcurrentModificationException", "null"),
)
_WINDOWS_EXCEPTIONS = (
    ("System.NullReferenceException", "Object reference not set to an instance of an object."),
    ("System.InvalidOperationException", "Collection was modified; enumeration operation may not execute."),
    ("System.IO.IOException", "The process cannot access the file because another process is using it"),
)
EXCEPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "iOS": _APPLE_EXCEPTIONS,
    "macOS": _APPLE_EXCEPTIONS,
    "tvOS": _APPLE_EXCEPTIONS,
    "watchOS": _APPLE_EXCEPTIONS,
    "Android": _ANDROID_EXCEPTIONS,
    "Windows": _WINDOWS_EXCEPTIONS,
}
_FRAMES: dict[str, tuple[str, ...]] = {
    "apple": (
        "0   CoreFoundation    0x00000001a1d2c2f4 __exceptionPreprocess + 164",
        "1   libobjc.A.dylib   0x000000019a3f1a8c objc_exception_throw + 60",
        "2   AcmeMobile        0x0000000104a3c2f4 -[OrderListViewController tableView:cellForRow:] + 148",
        "3   UIKitCore         0x00000001a4b0e7d8 -[UITableView _createPreparedCellForRow:] + 932",
        "4   AcmeMobile        0x0000000104a12c10 main + 96",
    ),
    "Android": (
        "\tat com.acme.mobile.orders.OrderAdapter.onBindViewHolder(OrderAdapter.kt:87)",
        "\tat androidx.recyclerview.widget.RecyclerView$Adapter.bindViewHolder(RecyclerView.java:7254)",
        "\tat com.acme.mobile.orders.OrderListFragment.render(OrderListFragment.kt:142)",
        "\tat android.os.Handler.handleCallback(Handler.java:958)",
        "\tat android.app.ActivityThread.main(ActivityThread.java:8177)",
    ),
    "Windows": (
        "   at Acme.Desktop.Orders.OrderListViewModel.Refresh() in OrderListViewModel.cs:line 64",
        "   at Acme.Desktop.Orders.OrderListPage.OnNavigatedTo(NavigationEventArgs e)",
        "   at System.Threading.Tasks.Task.InnerInvoke()",
    ),
}
NETWORK_STATUSES: tuple[str, ...] = ("WIFI", "MOBILE_DATA", "WIFI", "OFFLINE")
BATTERY_STATUSES: tuple[str, ...] = ("CHARGING", "DISCHARGING", "FULL", "DISCHARGING")

ISSUE_PLATFORMS: tuple[str, ...] = (
    ("iOS",) * 10 + ("Android",) * 10 + ("macOS",) * 3 + ("tvOS",) * 2 + ("watchOS",) * 2 + ("Windows",) * 3
)
POOL_CRASH_BASE = 7340000000100007
OVERRIDE_CRASH_BASE = 7349000000000000
DEVICES_PER_PLATFORM = 1000
USER_ID_BASE = 91_000_000_000
APP_VERSION_ID_BASE = 734_000_000_001
MAX_OVERRIDE_ROWS = 100_000_000
_VERSION_INDEX = {version: i for i, version in enumerate(APP_VERSIONS)}
_PLATFORM_INDEX = {platform: i for i, platform in enumerate(PLATFORM_ORDER)}
_WEEKDAY_FACTOR = (1.0, 1.05, 1.1, 1.05, 1.0, 0.8, 0.75)
_PROJECT_PLATFORMS = ["iOS", "Android", "macOS", "tvOS", "watchOS", "Windows"]


def day_ms(ordinal: int) -> int:
    """Epoch milliseconds of UTC midnight of the day with this proleptic ordinal."""
    return (ordinal - EPOCH_ORDINAL) * DAY_MS


def app_version_id(platform: str, version: str) -> int:
    """Numeric id of an app version on a platform (the API's ``AppVersionID``)."""
    if version in APP_VERSIONS:
        index = APP_VERSIONS.index(version)
    else:
        index = 50 + int.from_bytes(hashlib.blake2b(version.encode(), digest_size=2).digest(), "little") % 49
    return APP_VERSION_ID_BASE + PLATFORM_IDS[platform] * 100 + index


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
    crash_free_users: float


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
    """

    rows: int | None = None
    ignore_offset: bool = False
    crash_rows: int | None = None


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
        return [Project(self.portal_id, "Acme", self.project_id, "Acme Mobile", list(_PROJECT_PLATFORMS))]

    def _pool_issue(self, index: int) -> Issue:
        platform = ISSUE_PLATFORMS[index]
        h = self.digest("issue", index, size=32)
        exception_type, exception = EXCEPTIONS[platform][h[0] % len(EXCEPTIONS[platform])]
        x = h[1] / 256.0
        rate = (0.15 + 5.0 * x**3) * (1.0 if platform in ("iOS", "Android") else 0.5)
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
        version_index = _VERSION_INDEX.get(app_version, 15)
        return str(OVERRIDE_CRASH_BASE + (index * 6 + _PLATFORM_INDEX[platform]) * 16 + version_index)

    def _override_issue(self, crash_id: int, rows: int | None) -> Issue | None:
        index, rest = divmod(crash_id - OVERRIDE_CRASH_BASE, 96)
        platform_index, version_index = divmod(rest, 16)
        if rows is None or index >= rows or platform_index >= len(PLATFORM_ORDER):
            return None
        if version_index >= len(APP_VERSIONS) and version_index != 15:
            return None
        version = APP_VERSIONS[min(version_index, len(APP_VERSIONS) - 1)]
        h = self.digest("override-issue", index, size=16)
        return self._override_issue_from(str(crash_id), PLATFORM_ORDER[platform_index], version, h)

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
            user_id=USER_ID_BASE + PLATFORM_IDS[platform] * 1_000_000 + index * 4 // 5,
            model=MODELS[platform][raw[0] % len(MODELS[platform])],
            os_version=OS_VERSIONS[platform][min(raw[1] % 7, len(OS_VERSIONS[platform]) - 1)],
        )

    # ------------------------------------------------------------------ crashes
    def _issue_day(self, issue: Issue, ordinal: int, mode: int) -> IssueDay:
        lam = issue.rate * _WEEKDAY_FACTOR[(ordinal - 1) % 7] * (1.0 if mode else 0.15)
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
        users = {d * 4 // 5 for d in devices}
        return IssueDay(count, len(devices), len(users), tuple(occurrences))

    def _filtered_issues(self, query: Query, platforms: Iterable[str] | None = None) -> list[Issue]:
        wanted = set(query.platforms if platforms is None else platforms)
        versions = set(query.app_versions)
        return [
            issue
            for issue in self.issues
            if issue.platform in wanted and (not versions or issue.app_version in versions)
        ]

    def _window_counts(self, issues: list[Issue], ordinals: range, mode: int) -> Counts:
        crashes = devices = users = 0
        active_issues = 0
        for issue in issues:
            issue_crashes = 0
            for ordinal in ordinals:
                day = self.issue_day(issue, ordinal, mode)
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
            crashes = devices = users = 0
            for ordinal in query.ordinals:
                day = self.issue_day(issue, ordinal, query.mode)
                crashes += day.crashes
                devices += day.devices
                users += day.users
            if crashes:
                rows.append(CrashRow(issue, crashes, devices, users))
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
        crashes = 1 + int(400 * (h[9] / 256.0) ** 3)
        if query.mode == 0:
            crashes = 1 + crashes // 8
        devices = 1 + (h[10] | h[11] << 8) % crashes
        users = 1 + (h[12] | h[13] << 8) % devices
        return CrashRow(issue, crashes, devices, users)

    def active_total(self, query: Query, ordinals: range) -> int:
        return sum(self.cube_total("active", platform, o) for platform in query.platforms for o in ordinals)

    def crash_summary(self, query: Query) -> CrashSummary:
        issues = self._filtered_issues(query)
        days = len(query.ordinals)
        previous = range(query.ordinals.start - days, query.ordinals.start)
        current_counts = self._window_counts(issues, query.ordinals, query.mode)
        previous_counts = self._window_counts(issues, previous, query.mode)
        active = self.active_total(query, query.ordinals)
        free = 100.0 * (1.0 - current_counts.users / active) if active else 100.0
        return CrashSummary(current_counts, previous_counts, round(max(free, 0.0), 2))

    def _buckets(self, issues: list[Issue], query: Query) -> list[Bucket]:
        if not query.hourly:
            buckets = []
            for ordinal in query.ordinals:
                crashes = devices = users = active = 0
                for issue in issues:
                    day = self.issue_day(issue, ordinal, query.mode)
                    crashes += day.crashes
                    devices += day.devices
                    users += day.users
                    active += day.crashes > 0
                buckets.append(Bucket(day_ms(ordinal), Counts(crashes, devices, users, active)))
            return buckets
        ordinal = query.ordinals.start
        start = day_ms(ordinal)
        totals = [[0, 0, 0, 0] for _ in range(24)]
        for issue in issues:
            per_hour: dict[int, set[int]] = {}
            hour_crashes = [0] * 24
            for occurrence in self.issue_day(issue, ordinal, query.mode).occurrences:
                hour = (occurrence.time_ms - start) // HOUR_MS
                hour_crashes[hour] += 1
                per_hour.setdefault(hour, set()).add(occurrence.device_index)
            for hour, hit in per_hour.items():
                slot = totals[hour]
                slot[0] += hour_crashes[hour]
                slot[1] += len(hit)
                slot[2] += len({d * 4 // 5 for d in hit})
                slot[3] += 1
        return [Bucket(start + hour * HOUR_MS, Counts(*totals[hour])) for hour in range(24)]

    def crash_buckets(self, query: Query, platform: str) -> list[Bucket]:
        """Daily (or, for a one-day window, hourly) crash counts of one platform."""
        return self._buckets(self._filtered_issues(query, (platform,)), query)

    def issue_buckets(self, query: Query, issue: Issue) -> list[Bucket]:
        """Daily (or hourly) counts of one issue; all zero when its app version is filtered out."""
        versions = set(query.app_versions)
        issues = [issue] if not versions or issue.app_version in versions else []
        return self._buckets(issues, query)

    def _issue_occurrences(self, query: Query, issue: Issue) -> list[Occurrence]:
        if query.app_versions and issue.app_version not in query.app_versions:
            return []
        found: list[Occurrence] = []
        for ordinal in query.ordinals:
            found.extend(self.issue_day(issue, ordinal, query.mode).occurrences)
        return found

    def crash_detail(self, query: Query, issue: Issue) -> CrashDetail | None:
        """The latest crash of the issue in the window, or ``None`` when it did not crash then."""
        if query.app_versions and issue.app_version not in query.app_versions:
            return None
        for ordinal in reversed(query.ordinals):
            occurrences = self.issue_day(issue, ordinal, query.mode).occurrences
            if occurrences:
                latest = occurrences[-1]
                break
        else:
            return None
        h = self.digest("detail", issue.crash_id, latest.time_ms, size=16)
        family = "apple" if issue.platform in ("iOS", "macOS", "tvOS", "watchOS") else issue.platform
        frames = "\n".join(_FRAMES[family])
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

    def os_version_counts(self, query: Query, issue: Issue) -> list[tuple[str, int]]:
        """Crashes of the issue per OS version, most first."""
        counts: dict[str, int] = {}
        for occurrence in self._issue_occurrences(query, issue):
            os_version = self.device(issue.platform, occurrence.device_index).os_version
            counts[os_version] = counts.get(os_version, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def device_model_counts(self, query: Query, issue: Issue) -> list[tuple[str, int]]:
        """Crashes of the issue per device model, most first."""
        counts: dict[str, int] = {}
        for occurrence in self._issue_occurrences(query, issue):
            model = self.device(issue.platform, occurrence.device_index).model
            counts[model] = counts.get(model, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def os_version_override_row(self, index: int, query: Query) -> tuple[str, int]:
        h = self.digest("override-os", query.crash_id, index, query.mode, size=8)
        return f"{10 + index % 9}.{(index // 9) % 10}.{index // 90}", 1 + int.from_bytes(h, "little") % 250

    def device_model_override_row(self, index: int, query: Query) -> tuple[str, int]:
        h = self.digest("override-model", query.crash_id, index, query.mode, size=8)
        family = MODELS[PLATFORM_ORDER[h[0] % 2]]
        return f"{family[h[1] % len(family)]} #{index}", 1 + int.from_bytes(h[2:], "little") % 250

    def affected_devices(self, query: Query) -> list[AffectedDevice]:
        """Every crash in the window on every platform, oldest first."""
        found: list[tuple[int, str, int]] = []
        for issue in self.issues:
            for ordinal in query.ordinals:
                for occurrence in self.issue_day(issue, ordinal, query.mode).occurrences:
                    found.append((occurrence.time_ms, issue.crash_id, occurrence.device_index))
        found.sort()
        rows = []
        for time_ms, crash_id, device_index in found:
            issue = self._issues_by_id[crash_id]
            rows.append(AffectedDevice(time_ms, issue.app_version, self.device(issue.platform, device_index)))
        return rows

    def affected_override_row(self, index: int, total: int, query: Query) -> AffectedDevice:
        h = self.digest("override-affected", index, query.mode, size=16)
        platform = PLATFORM_ORDER[h[0] % 2 if h[1] % 8 else h[0] % len(PLATFORM_ORDER)]
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
        weekday = _WEEKDAY_FACTOR[(ordinal - 1) % 7]
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

        :return: ``(values, count)`` pairs, ``values`` in group order (dates as ``dd-MM-yyyy``), in
            canonical order (dates ascending, platforms as requested, other values in catalog order);
            cells whose count is zero are left out.
        """
        filters = {
            "bundle": query.filter("bundle"),
            "screen": query.filter("screenname"),
            "api": query.filter("apiname"),
        }
        group = query.group
        totals: dict[tuple[int, ...], int] = {}
        for platform_index, platform in enumerate(query.platforms):
            for ordinal in query.ordinals:
                weights = self._cube(kind, platform, ordinal)
                factor = weights.base
                grouped: list[tuple[int, tuple[int, ...]]] = []
                for dimension, values in weights.dims.items():
                    wanted = filters.get(dimension)
                    if wanted is not None:
                        options = self.dimension_values(dimension, platform)
                        values = tuple(w if v == wanted else 0 for v, w in zip(options, values, strict=True))
                    if dimension not in group:
                        factor *= sum(values)
                    else:
                        grouped.append((group.index(dimension), values))
                if factor == 0:
                    continue
                cells: list[tuple[dict[int, int], int]] = [({}, factor)]
                for position, values in grouped:
                    cells = [
                        ({**key, position: i}, count * weight)
                        for key, count in cells
                        for i, weight in enumerate(values)
                        if weight
                    ]
                for key, count in cells:
                    full: list[int] = []
                    for position, dimension in enumerate(group):
                        if dimension == "date":
                            full.append(ordinal)
                        elif dimension == "platform":
                            full.append(platform_index)
                        else:
                            full.append(self._canonical_index(dimension, platform, key[position]))
                    index_key = tuple(full)
                    totals[index_key] = totals.get(index_key, 0) + count
        result: list[tuple[tuple[str, ...], int]] = []
        for index_key in sorted(totals):
            names: list[str] = []
            for position, dimension in enumerate(group):
                index = index_key[position]
                if dimension == "date":
                    names.append(format_date(dt.date.fromordinal(index)))
                elif dimension == "platform":
                    names.append(query.platforms[index])
                else:
                    names.append(self._canonical_values(dimension)[index])
            result.append((tuple(names), totals[index_key]))
        return result

    @staticmethod
    def _canonical_values(dimension: str) -> tuple[str, ...]:
        if dimension == "bundle":
            return _ALL_BUNDLES
        if dimension == "devicetype":
            return _ALL_DEVICE_TYPES
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
            for i, platform in enumerate(PLATFORM_ORDER)
            if not group.startswith("j_") and h[1 + i] % 4 == 0
        )
        return rate, absent

    def _events_day_uncached(self, platform: str, ordinal: int, mode: int) -> tuple[tuple[int, int], ...]:
        h = self.digest("events-day", platform, ordinal, size=64)
        weekday = _WEEKDAY_FACTOR[(ordinal - 1) % 7]
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


_ALL_BUNDLES: tuple[str, ...] = tuple(dict.fromkeys(b for p in PLATFORM_ORDER for b in BUNDLES[p]))
_ALL_DEVICE_TYPES: tuple[str, ...] = tuple(dict.fromkeys(d for p in PLATFORM_ORDER for d in DEVICE_TYPES[p]))
