"""
The fixed reference data behind the sandbox's Apptics model.

Platforms, app versions, devices, countries, screens, APIs, events, exceptions, stack frames and the numeric
bases of ids. Plain values only (no seed, no hashing, no clock): :mod:`~airflow_provider_zoho.sandbox.model`
turns them into deterministic figures, and the request validation
(:mod:`~airflow_provider_zoho.sandbox.query`) takes its platform list from here.
"""

from __future__ import annotations

import datetime as dt

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

#: Every platform, in the sandbox's canonical order (the API's names are case-sensitive).
PLATFORMS: tuple[str, ...] = ("iOS", "Android", "macOS", "tvOS", "watchOS", "Windows")
#: The platforms a request without ``platform`` gets, and the busiest ones.
MAIN_PLATFORMS: tuple[str, ...] = PLATFORMS[:2]
#: The platforms whose crashes carry Apple exceptions and stack frames.
APPLE_PLATFORMS: tuple[str, ...] = ("iOS", "macOS", "tvOS", "watchOS")
PLATFORM_INDEX: dict[str, int] = {platform: i for i, platform in enumerate(PLATFORMS)}
#: The API's ``PID`` of each platform.
PLATFORM_IDS: dict[str, int] = {"Android": 1, "iOS": 2, "macOS": 3, "tvOS": 4, "watchOS": 5, "Windows": 6}
#: Relative size of each platform's user base.
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
    **dict.fromkeys(APPLE_PLATFORMS, _APPLE_EXCEPTIONS),
    "Android": _ANDROID_EXCEPTIONS,
    "Windows": _WINDOWS_EXCEPTIONS,
}
#: Stack frames by family: ``apple`` (every Apple platform), ``Android``, ``Windows``.
FRAMES: dict[str, tuple[str, ...]] = {
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
#: The key the ``extra_field`` quirk adds to rows (no client knows it; records carry it as
#: ``release_channel``), and the values it takes (one per seed and window).
EXTRA_FIELD = "ReleaseChannel"
RELEASE_CHANNELS: tuple[str, ...] = ("stable", "beta", "canary")
VERSION_INDEX: dict[str, int] = {version: i for i, version in enumerate(APP_VERSIONS)}
#: Activity factor by weekday, Monday first.
WEEKDAY_FACTOR: tuple[float, ...] = (1.0, 1.05, 1.1, 1.05, 1.0, 0.8, 0.75)
#: Every bundle and every device type of any platform, in canonical order (the multigroup answer's order).
ALL_BUNDLES: tuple[str, ...] = tuple(dict.fromkeys(b for p in PLATFORMS for b in BUNDLES[p]))
ALL_DEVICE_TYPES: tuple[str, ...] = tuple(dict.fromkeys(d for p in PLATFORMS for d in DEVICE_TYPES[p]))
