from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import ZohoAPIError
from airflow_provider_zoho.hooks.apptics_parsing import page_is_full, parse_page
from airflow_provider_zoho.hooks.apptics_planning import ApiCall, plan_calls
from airflow_provider_zoho.hooks.apptics_resources import PAGE_LIMIT, RESOURCES
from airflow_provider_zoho.hooks.zoho_http import decode_envelope

DATA = Path(__file__).resolve().parents[1] / "data" / "apptics"
MAR_12, MAR_13 = "2022-03-12", "2022-03-13"
CRASH_ID = "7340000000123007"


def _call(resource: str, **kwargs) -> ApiCall:
    if not RESOURCES[resource].dated:
        return plan_calls(resource, None, None, **kwargs)[0]
    (call,) = plan_calls(resource, MAR_12, MAR_13, **kwargs)
    return call


def _fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _decoded(body: bytes | str | None):
    """A body as the hook hands it over: decoded JSON, ``None`` for an empty body."""
    return json.loads(body) if body is not None and body.strip() else None


# --------------------------------------------------------------------------------------------------------
# Parsing the documented sample bodies
# --------------------------------------------------------------------------------------------------------

CRASH_ROW = {
    "crash_id": CRASH_ID,
    "app_version": "2.4.1",
    "status": 1,
    "os": "iOS",
    "exception": "-[__NSArrayM objectAtIndex:]: index 3 beyond bounds",
    "exception_type": "NSInvalidArgumentException",
    "crash_count": 12,
    "device_count": 10,
    "user_count": 9,
    "platform_id": "2",
    "app_version_id": "734000000001",
}

SAMPLES = [
    ("projects.json", "projects", {}, [
        {
            "portal_id": "766556673",
            "portal_name": "Acme",
            "project_id": "782000000004007",
            "project_name": "Acme Mobile",
            "platforms": ["iOS", "Android"],
        }
    ]),
    ("crashes.json", "crashes", {}, [CRASH_ROW]),
    ("crashes_bare_list.json", "crashes", {}, [
        {
            "crash_id": "7340000000200011",
            "app_version": "1.0.3",
            "status": 0,
            "os": "Android",
            "exception": "java.lang.NullPointerException: Attempt to invoke virtual method",
            "exception_type": None,
            "crash_count": 3,
            "device_count": 1,
            "user_count": 1,
            "platform_id": "1",
            "app_version_id": "734000000002",
        }
    ]),
    ("crash_summary.json", "crash_summary", {}, [
        {
            "crash_count": 11,
            "issue_count": 3,
            "device_count": 6,
            "user_count": 6,
            "previous_crash_count": 7,
            "previous_issue_count": 2,
            "previous_device_count": 5,
            "previous_user_count": 4,
            "crash_free_users": 99.2,
        }
    ]),
    ("crash_counts_by_date.json", "crash_counts_by_date", {}, [
        {
            "platform": "ios",
            "bucket_start": "2022-03-12T00:00:00Z",
            "crash_count": 3,
            "device_count": 2,
            "user_count": 2,
            "issue_count": 1,
        },
        {
            "platform": "android",
            "bucket_start": "2022-03-12T00:00:00Z",
            "crash_count": 5,
            "device_count": 4,
            "user_count": 4,
            "issue_count": 2,
        },
    ]),
    ("crash_issue_counts_by_date.json", "crash_issue_counts_by_date", {"crash_id": CRASH_ID}, [
        {
            "crash_id": CRASH_ID,
            "bucket_start": "2018-09-11T07:00:00Z",
            "crash_count": 2,
            "device_count": 2,
            "user_count": 2,
            "issue_count": 1,
        },
        {
            "crash_id": CRASH_ID,
            "bucket_start": "2018-09-12T07:00:00Z",
            "crash_count": 1,
            "device_count": 1,
            "user_count": 1,
            "issue_count": 1,
        },
    ]),
    ("crash_detail.json", "crash_detail", {"crash_id": CRASH_ID}, [
        {
            "crash_id": CRASH_ID,
            "date": "2022-03-12",
            "happened_at": "2022-03-12T09:00:00Z",
            "session_start_time": "2022-03-12T08:00:00Z",
            "message": "index 3 beyond bounds [0 .. 2]",
            "exception": "-[__NSArrayM objectAtIndex:]: index 3 beyond bounds",
            "issue_name": "NSInvalidArgumentException",
            "os": "iOS",
            "os_version": "15.5",
            "model": "iPhone13,2",
            "screen": "CartViewController",
            "device_id": "734000000007001",
            "user_id": "u-42",
            "network_status": "wifi",
            "battery_status": "charging",
            "platform_id": "2",
            "app_version": "2.4.1",
            "app_version_id": "734000000001",
            "app_release_version": "241",
            "sdk_version": "3.2.1",
            "edge": False,
            "custom_properties": {"cart_items": "3", "tier": "gold"},
        }
    ]),
    ("crash_os_versions.json", "crash_os_versions", {"crash_id": CRASH_ID}, [
        {"crash_id": CRASH_ID, "os_version": "15.5", "crash_count": 1}
    ]),
    ("crash_device_models.json", "crash_device_models", {"crash_id": CRASH_ID}, [
        {"crash_id": CRASH_ID, "model": "iPhone13,2", "crash_count": 6}
    ]),
    ("affected_devices.json", "affected_devices", {}, [
        {
            "device_id": "734000000007001",
            "user_id": "u-42",
            "model": "iPhone13,2",
            "os_version": "15.5",
            "app_version": "2.4.1",
            "happened_at": "2022-03-12T09:00:00Z",
            "date": "2022-03-12",
        }
    ]),
    ("active_devices_by_date.json", "active_devices_by_date", {}, [
        {"platform": "iOS", "bucket_start": "2022-03-12T08:00:00Z", "active_devices": 4}
    ]),
    ("event_summary.json", "event_summary", {}, [
        {
            "platform": "tvOS",
            "event_group": "j_applifecycle",
            "event_name": "ja_application_launched",
            "event_count": 1,
        }
    ]),
    ("event_counts_by_date.json", "event_counts_by_date", {}, [
        {
            "platform": "iOS",
            "bucket_start": "2022-03-12T08:00:00Z",
            "event_group": "j_applifecycle",
            "event_name": "ja_application_launched",
            "event_count": 1,
        }
    ]),
    ("event_counts_by_country.json", "event_counts_by_country", {}, [
        {"country": "CANADA", "event_count": 2},
        {"country": "INDIA", "event_count": 5},
    ]),
    ("event_device_counts.json", "event_device_counts", {}, [
        {
            "window_start": "2022-03-12",
            "window_end": "2022-03-13",
            "event_name": "Ratings_Given",
            "event_group": "AppStore",
            "device_count": 129,
        }
    ]),
    ("active_devices.json", "active_devices", {}, [
        {"date": "2020-01-01", "platform": "iOS", "count": 2},
        {"date": "2020-01-01", "platform": "Android", "count": 5},
    ]),
    ("active_devices_by_appversion.json", "active_devices", {"group": "appversion"}, [
        {"appversion": "1.2.3", "count": 181}
    ]),
    ("api_stats.json", "api_stats", {"group": "platform,date"}, [
        {"platform": "iOS", "date": "2020-01-01", "count": 2}
    ]),
    ("screens.json", "screens", {}, [
        {"date": "2024-07-01", "screen": "CartViewController", "count": 12},
        {"date": "2024-07-01", "screen": "HomeViewController", "count": 30},
        {"date": "2024-07-02", "screen": "HomeViewController", "count": 7},
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "resource", "kwargs", "records"),
    SAMPLES,
    ids=[sample[0].removesuffix(".json") for sample in SAMPLES],
)
def test_parse_page_documented_samples(fixture, resource, kwargs, records):
    call = _call(resource, **kwargs)
    body = _decoded(_fixture(fixture))
    parsed = parse_page(call, body)
    assert parsed == records
    # Exact field order, not just equal dicts.
    assert [list(record) for record in parsed] == [list(record) for record in records]
    assert page_is_full(call, body, PAGE_LIMIT) is False


@pytest.mark.parametrize(
    "body",
    [_fixture("empty_204.json"), b"", "  \n", None, b"null", b"[]", b"{}", b'{"data": []}',
     b'{"data": [], "status": "success"}', b'{"data": {"result": {}}, "status": 200}',
     b'{"result": {}, "status": 200}'],
    ids=["204-fixture", "empty-bytes", "blank-str", "none", "json-null", "empty-list", "empty-object",
         "empty-data", "empty-data-status", "empty-data-result", "empty-result"],
)  # fmt: skip
@pytest.mark.parametrize("resource", list(RESOURCES), ids=list(RESOURCES))
def test_parse_page_empty_bodies_give_no_records_and_are_not_full(resource, body):
    kwargs = {"crash_id": CRASH_ID} if RESOURCES[resource].needs_crash_id else {}
    call = _call(resource, **kwargs)
    data = _decoded(body)
    assert parse_page(call, data) == []
    assert page_is_full(call, data, 1) is False


# --------------------------------------------------------------------------------------------------------
# The fullness rule (limit=2 keeps the pages small)
# --------------------------------------------------------------------------------------------------------

ROW = {"UniqueMessageID": "1", "CrashCount": "1"}
FULLNESS = [
    ("crashes", {}, {"data": [ROW, ROW]}, True),
    ("crashes", {}, [ROW], False),
    ("crashes", {}, [ROW, ROW, ROW], True),
    ("crash_os_versions", {"crash_id": "1"}, {"data": [{"OSVersion": "1", "Count": 1}] * 2}, True),
    ("crash_device_models", {"crash_id": "1"}, [{"model": "a", "count": 1}], False),
    ("affected_devices", {}, {"data": [{"DeviceID": 1}] * 2, "status": "success"}, True),
    (
        "active_devices_by_date",
        {},
        {"data": {"result": {"iOS": [{"DATE": 0}], "Android": [{"DATE": 0}, {"DATE": 1}]}}},
        True,
    ),
    (
        "active_devices_by_date",
        {},
        {"data": {"result": {"iOS": [{"DATE": 0}], "Android": [{"DATE": 0}]}}},
        False,
    ),
    ("event_summary", {}, {"data": {"result": {"tvOS": [{"GROUP": "g"}] * 2}}}, True),
    ("event_counts_by_date", {}, {"data": {"result": {"iOS": [{"DATE": 0}]}}}, False),
    (
        "crash_counts_by_date",
        {},
        {
            "ios": {"crashcount": {"0": 1}},
            "android": {"crashcount": {"0": 1}, "userschart": {"0": 1, "1": 1}},
        },
        True,
    ),
    (
        "crash_counts_by_date",
        {},
        {"ios": {"crashcount": {"0": 1}, "usercount": {"0": 1}}, "android": {"crashcount": {"0": 1}}},
        False,
    ),
    ("crash_issue_counts_by_date", {"crash_id": "1"}, {"crashcount": {"0": 1, "1": 1}}, True),
    ("crash_issue_counts_by_date", {"crash_id": "1"}, {"crashcount": {"0": 1}, "usercount": {"1": 1}}, False),
    ("event_counts_by_country", {}, {"data": {"result": {"A": 1, "B": 2}, "userParams": {}}}, True),
    ("event_counts_by_country", {}, {"data": {"result": {"A": 1}}}, False),
    ("event_device_counts", {}, {"result": {"a(b)": 1, "c(d)": 2}}, True),
    ("active_devices", {}, {"result": {"01-01-2020": {"iOS": 1}, "02-01-2020": {"iOS": 1}}}, True),
    ("active_devices", {}, {"result": {"01-01-2020": {"iOS": 1, "Android": 2}}}, False),
    ("screens", {"group": "screen"}, {"result": {"Home": 1, "Cart": 2}}, True),
    ("crash_summary", {}, {"crashcount": {"crashcount": 1, "usercount": 1}}, False),
    ("crash_detail", {"crash_id": "1"}, {"data": [{"OS": "iOS"}, {"OS": "iOS"}]}, False),
    ("projects", {}, {"result": [{"zsoid": 1}, {"zsoid": 2}]}, False),
]


@pytest.mark.parametrize(
    ("resource", "kwargs", "body", "full"),
    FULLNESS,
    ids=[
        "list-full",
        "list-short",
        "list-over-limit",
        "os-versions-full",
        "device-models-short",
        "affected-devices-full",
        "one-platform-list-full",
        "platform-lists-short",
        "event-summary-full",
        "event-counts-by-date-short",
        "one-metric-map-full",
        "metric-maps-short",
        "issue-metric-map-full",
        "issue-metric-maps-short",
        "country-map-full",
        "country-map-short",
        "device-count-map-full",
        "multigroup-outer-full",
        "multigroup-inner-not-counted",
        "multigroup-one-level-full",
        "unpaged-summary",
        "unpaged-detail",
        "unpaged-projects",
    ],
)
def test_parse_page_fullness_rule(resource, kwargs, body, full):
    assert page_is_full(_call(resource, **kwargs), body, 2) is full
    # The fetcher pages on the envelope alone (rows left encoded): the same rule.
    assert page_is_full(_call(resource, **kwargs), _envelope(body), 2) is full


PAGED = [name for name, resource in RESOURCES.items() if resource.paged]
#: Keys the envelopes and containers of Apptics answers use, so the draws reach every branch of the rule.
ENVELOPE_KEYS = st.sampled_from(
    ["data", "result", "status", "message", "code", "userParams", "iOS", "Android", "crashcount", "usercount"]
) | st.text(max_size=3)
ANSWERS = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=4)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ENVELOPE_KEYS, children, max_size=4),
    max_leaves=25,
)  # fmt: skip


@given(resource=st.sampled_from(PAGED), answer=ANSWERS, limit=st.integers(1, 4))
@settings(max_examples=300, deadline=None)
def test_the_envelope_pages_as_the_whole_body_would_for_any_answer(resource, answer, limit):
    kwargs = {"crash_id": CRASH_ID} if RESOURCES[resource].needs_crash_id else {}
    call = _call(resource, **kwargs)
    assert page_is_full(call, _envelope(answer), limit) is page_is_full(call, answer, limit)


def _envelope(data):
    """What the fetcher pages on: ``data`` sent as JSON, decoded down to its arrays."""
    response = types.SimpleNamespace(status_code=200, content=json.dumps(data).encode(), url=None)
    return decode_envelope(response)


def test_the_page_limit_is_500_and_a_page_of_500_rows_is_full():
    assert PAGE_LIMIT == 500
    call = _call("crashes")
    assert page_is_full(call, [ROW] * PAGE_LIMIT, PAGE_LIMIT) is True
    assert page_is_full(call, [ROW] * (PAGE_LIMIT - 1), PAGE_LIMIT) is False


# --------------------------------------------------------------------------------------------------------
# Normalization details
# --------------------------------------------------------------------------------------------------------


def test_unknown_keys_follow_known_fields_in_api_order():
    body = {
        "data": [
            {
                "NewField": "x",
                "CrashCount": "2",
                "UniqueMessageID": 42,
                "Extra Info ": {"a": 1},
                "AppVersion": "1.0",
            }
        ]
    }
    (record,) = parse_page(_call("crashes"), body)
    assert list(record.items()) == [
        ("crash_id", "42"),
        ("app_version", "1.0"),
        ("status", None),
        ("os", None),
        ("exception", None),
        ("exception_type", None),
        ("crash_count", 2),
        ("device_count", None),
        ("user_count", None),
        ("platform_id", None),
        ("app_version_id", None),
        ("new_field", "x"),
        ("extra_info", {"a": 1}),
    ]


def test_event_summary_accepts_both_spellings_of_name_and_count():
    body = {
        "data": {
            "result": {
                "iOS": [{"GROUP": "g", "EVENT NAME": "a", "EVENT COUNT": "3"}],
                "Android": [{"EVENTS COUNT": 4, "EVENTS NAME ": "b", "GROUP": "h"}],
            }
        },
        "status": 200,
    }
    assert parse_page(_call("event_summary"), body) == [
        {"platform": "iOS", "event_group": "g", "event_name": "a", "event_count": 3},
        {"platform": "Android", "event_group": "h", "event_name": "b", "event_count": 4},
    ]


def test_affected_devices_accept_the_correct_spelling_too():
    body = {"data": [{"HappenedAt": "1647075600000", "DeviceID": "d1"}]}
    (record,) = parse_page(_call("affected_devices"), body)
    assert (record["happened_at"], record["device_id"]) == ("2022-03-12T09:00:00Z", "d1")


def test_a_row_key_named_like_a_context_field_is_kept():
    body = {"data": {"result": {"iOS": [{"Platform": "iPadOS", "DATE": 0, "ActiveDevices COUNT": "1"}]}}}
    assert parse_page(_call("active_devices_by_date"), body) == [
        {
            "platform": "iOS",
            "bucket_start": "1970-01-01T00:00:00Z",
            "active_devices": 1,
            "platform_2": "iPadOS",
        }
    ]


def test_crash_counts_by_date_merges_metrics_per_bucket_and_keeps_unknown_metrics():
    body = {
        "ios": {
            "crashcount": {"1647043200000": 3, "1647129600000": "4"},
            "sessioncount": {"1647129600000": "90"},
            "usercount": {"1647043200000": 1},
        }
    }
    assert [list(r.items()) for r in parse_page(_call("crash_counts_by_date"), body)] == [
        [
            ("platform", "ios"),
            ("bucket_start", "2022-03-12T00:00:00Z"),
            ("crash_count", 3),
            ("device_count", None),
            ("user_count", 1),
            ("issue_count", None),
            ("sessioncount", None),
        ],
        [
            ("platform", "ios"),
            ("bucket_start", "2022-03-13T00:00:00Z"),
            ("crash_count", 4),
            ("device_count", None),
            ("user_count", None),
            ("issue_count", None),
            ("sessioncount", "90"),
        ],
    ]


def test_crash_counts_by_date_keeps_both_values_of_duplicate_aliases():
    body = {"ios": {"crashcount": {"0": 1}, "crashecount": {"0": "2"}}}
    assert parse_page(_call("crash_counts_by_date"), body) == [
        {
            "platform": "ios",
            "bucket_start": "1970-01-01T00:00:00Z",
            "crash_count": 1,
            "device_count": None,
            "user_count": None,
            "issue_count": None,
            "crashecount": "2",
        }
    ]


def test_crash_counts_by_date_without_platform_level():
    body = {"crashcount": {"0": 1}, "deviceschart": {"0": "1"}}
    assert parse_page(_call("crash_counts_by_date"), body) == [
        {
            "platform": None,
            "bucket_start": "1970-01-01T00:00:00Z",
            "crash_count": 1,
            "device_count": 1,
            "user_count": None,
            "issue_count": None,
        }
    ]


def test_crash_summary_keeps_unknown_keys_prefixed_by_their_block():
    body = {"crashcount": {"crashcount": "1", "anrcount": 2}, "precrashcount": {}, "trend": "up"}
    assert list(parse_page(_call("crash_summary"), body)[0].items()) == [
        ("crash_count", 1),
        ("issue_count", None),
        ("device_count", None),
        ("user_count", None),
        ("previous_crash_count", None),
        ("previous_issue_count", None),
        ("previous_device_count", None),
        ("previous_user_count", None),
        ("crash_free_users", None),
        ("crashcount_anrcount", 2),
        ("trend", "up"),
    ]


def test_crash_detail_falls_back_to_the_requested_crash_id():
    (record,) = parse_page(_call("crash_detail", crash_id=CRASH_ID), {"data": {"OS": "iOS"}})
    assert (record["crash_id"], record["os"]) == (CRASH_ID, "iOS")


@pytest.mark.parametrize(
    ("key", "name", "group"),
    [
        ("Ratings_Given(AppStore)", "Ratings_Given", "AppStore"),
        ("a(b)(c)", "a(b)", "c"),
        ("no_group", "no_group", None),
        ("(only)", "(only)", None),
        ("open(ended", "open(ended", None),
        ("empty()", "empty", ""),
    ],
    ids=["documented", "split-at-last-paren", "no-group", "nothing-before-paren", "unclosed", "empty-group"],
)
def test_event_device_counts_split_name_and_group(key, name, group):
    (call, *_) = plan_calls("event_device_counts", "2024-01-01", "2024-03-01")
    assert parse_page(call, {"result": {key: "7"}, "status": 200}) == [
        {
            "window_start": "2024-01-01",
            "window_end": "2024-02-29",
            "event_name": name,
            "event_group": group,
            "device_count": 7,
        }
    ]


def test_multigroup_three_levels_in_group_order():
    call = _call("api_stats", group="api,date,platform")
    body = {
        "result": {"login": {"01-07-2024": {"iOS": "3", "Android": 1}}, "logout": {"02-07-2024": {"iOS": 2}}}
    }
    assert [list(r.items()) for r in parse_page(call, body)] == [
        [("api", "login"), ("date", "2024-07-01"), ("platform", "iOS"), ("count", 3)],
        [("api", "login"), ("date", "2024-07-01"), ("platform", "Android"), ("count", 1)],
        [("api", "logout"), ("date", "2024-07-02"), ("platform", "iOS"), ("count", 2)],
    ]


def test_projects_one_record_per_project_and_portals_without_projects_kept():
    body = {
        "result": [
            {
                "zsoid": 766556673,
                "portalName": "Acme",
                "role": "admin",
                "projects": [
                    {"projectId": 1, "projectName": "A", "platforms": ["iOS"], "role": "viewer"},
                    {"projectName": "B", "projectId": "2", "platforms": []},
                ],
            },
            {"portalName": "Empty", "zsoid": "9", "projects": []},
        ],
        "status": 200,
    }
    records = parse_page(_call("projects"), body)
    assert [list(record.items()) for record in records] == [
        [
            ("portal_id", "766556673"),
            ("portal_name", "Acme"),
            ("project_id", "1"),
            ("project_name", "A"),
            ("platforms", ["iOS"]),
            ("portal_role", "admin"),
            ("role", "viewer"),
        ],
        [
            ("portal_id", "766556673"),
            ("portal_name", "Acme"),
            ("project_id", "2"),
            ("project_name", "B"),
            ("platforms", []),
            ("role", "admin"),
        ],
        [
            ("portal_id", "9"),
            ("portal_name", "Empty"),
            ("project_id", None),
            ("project_name", None),
            ("platforms", None),
        ],
    ]


def test_projects_accept_the_unwrapped_list():
    body = [{"zsoid": "1", "portalName": "P", "projects": [{"projectId": "2", "projectName": "Q"}]}]
    assert parse_page(_call("projects"), body) == [
        {"portal_id": "1", "portal_name": "P", "project_id": "2", "project_name": "Q", "platforms": None}
    ]


# --------------------------------------------------------------------------------------------------------
# Unusable bodies
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "kwargs", "body", "message", "code"),
    [
        (
            "crashes",
            {},
            {"data": {"UniqueMessageID": "1"}},
            (
                "Apptics resource 'crashes' answered with an unexpected shape: expected {\"data\": "
                "[row...]} or a "
                "bare [row...], got dict {'UniqueMessageID': '1'}"
            ),
            None,
        ),
        (
            "crashes",
            {},
            {"data": [["1", "2"]]},
            "Apptics resource 'crashes': expected each row to be a JSON object, got list ['1', '2']",
            None,
        ),
        (
            "crashes",
            {},
            {"data": [{"CrashCount": "many"}]},
            (
                "Apptics resource 'crashes': field 'crash_count' (API key 'CrashCount') has an unusable "
                "value: "
                "'many' is not a count"
            ),
            None,
        ),
        (
            "event_summary",
            {},
            {"data": {"result": {"iOS": {"GROUP": "g"}}}},
            (
                "Apptics resource 'event_summary' answered with an unexpected shape at platform 'iOS': "
                "expected "
                '{"data": {"result": {platform: [row...]}}, "status": 200}, got dict {\'GROUP\': \'g\'}'
            ),
            None,
        ),
        (
            "crash_counts_by_date",
            {},
            {"ios": {"crashcount": [1, 2]}},
            (
                "Apptics resource 'crash_counts_by_date' answered with an unexpected shape at platform 'ios' "
                "metric 'crashcount': expected {platform: {metric: {epoch_ms: count}}}, got list [1, 2]"
            ),
            None,
        ),
        (
            "crash_counts_by_date",
            {},
            {"ios": 5},
            (
                "Apptics resource 'crash_counts_by_date' answered with an unexpected shape at platform "
                "'ios': "
                "expected {platform: {metric: {epoch_ms: count}}}, got int 5"
            ),
            None,
        ),
        (
            "event_counts_by_country",
            {},
            {"data": {"result": {"INDIA": {"count": 5}}}},
            "Apptics resource 'event_counts_by_country': unusable value ({'count': 5} is not a count)",
            None,
        ),
        (
            "active_devices",
            {},
            {"result": {"01-01-2020": 5}},
            (
                "Apptics resource 'active_devices' answered with an unexpected shape at 2020-01-01: expected "
                "counts nested 2 level(s) deep in group order (date, platform), got int 5"
            ),
            None,
        ),
        (
            "active_devices",
            {"group": "platform"},
            {"result": {"iOS": {"01-01-2020": 5}}},
            (
                "Apptics resource 'active_devices' answered with an unexpected shape at iOS: expected counts "
                "nested 1 level(s) deep in group order (platform), got dict {'01-01-2020': 5}"
            ),
            None,
        ),
        (
            "projects",
            {},
            {"result": "none"},
            (
                "Apptics resource 'projects' answered with an unexpected shape: expected {\"result\": "
                "[portal...], \"status\": 200}, got str 'none'"
            ),
            None,
        ),
        (
            "crashes",
            {},
            {"status": "failure", "error": {"code": "INVALID_OAUTHTOKEN", "message": "Invalid token"}},
            "Apptics resource 'crashes' answered with an error: Invalid token",
            "INVALID_OAUTHTOKEN",
        ),
        (
            "screens",
            {},
            {"error": "LIMIT_EXCEEDED"},
            "Apptics resource 'screens' answered with an error: {'error': 'LIMIT_EXCEEDED'}",
            "LIMIT_EXCEEDED",
        ),
        (
            "crash_summary",
            {},
            {"code": "7005", "message": "Invalid project"},
            "Apptics resource 'crash_summary' answered with an error: Invalid project",
            "7005",
        ),
    ],
    ids=[
        "object-instead-of-list",
        "row-not-object",
        "count-not-number",
        "platform-value-not-list",
        "metric-not-map",
        "platform-value-not-object",
        "country-count-not-number",
        "multigroup-too-shallow",
        "multigroup-too-deep",
        "projects-not-list",
        "error-object",
        "error-string",
        "bare-code",
    ],
)
def test_parse_page_rejects_unusable_bodies(resource, kwargs, body, message, code):
    with pytest.raises(ZohoAPIError) as excinfo:
        parse_page(_call(resource, **kwargs), body)
    assert excinfo.value.message == message
    assert excinfo.value.code == code


def test_a_resource_that_is_not_paged_never_reports_a_full_page():
    unpaged = dataclasses.replace(RESOURCES["crashes"], paged=False)
    (call,) = plan_calls(unpaged, MAR_12, MAR_13)
    assert call.page_params(500) == {"startdate": "12-03-2022", "enddate": "13-03-2022"}
    assert page_is_full(call, [ROW, ROW], 2) is False
    assert [record["crash_id"] for record in parse_page(call, [ROW, ROW])] == ["1", "1"]


# --------------------------------------------------------------------------------------------------------
# Error bodies at HTTP 200: Zoho documents none for Apptics, so every plausible shape is an error
# --------------------------------------------------------------------------------------------------------

ERROR_BODIES = [
    ({"status": "error", "data": []}, None, "{'status': 'error', 'data': []}"),
    ({"status": "error", "result": {}}, None, "{'status': 'error', 'result': {}}"),
    ({"status": "failure", "data": {"result": {}}}, None, "{'status': 'failure', 'data': {'result': {}}}"),
    ({"status": "error", "message": "Project not found"}, None, "Project not found"),
    ({"status": "failure", "code": 7005}, "7005", "{'status': 'failure', 'code': 7005}"),
    ({"code": "7005"}, "7005", "{'code': '7005'}"),
    ({"code": "7005", "message": "Invalid project"}, "7005", "Invalid project"),
    ({"error": "LIMIT_EXCEEDED"}, "LIMIT_EXCEEDED", "{'error': 'LIMIT_EXCEEDED'}"),
    ({"error": {"code": "E1", "message": "Bad range"}, "data": []}, "E1", "Bad range"),
    ({"error": {"message": "Bad range"}}, None, "Bad range"),
    ({"status": 400, "code": 7005, "message": "Invalid project"}, "7005", "Invalid project"),
    ({"error": {"code": "E1", "message": "Bad range"}, "code": 500}, "E1", "Bad range"),
    ({"error": "LIMIT_EXCEEDED", "code": 500}, "LIMIT_EXCEEDED", "{'error': 'LIMIT_EXCEEDED', 'code': 500}"),
]


@pytest.mark.parametrize(("body", "code", "said"), ERROR_BODIES, ids=[repr(b) for b, _, _ in ERROR_BODIES])
@pytest.mark.parametrize("resource", list(RESOURCES), ids=list(RESOURCES))
def test_every_error_body_shape_is_an_error_for_every_resource(resource, body, code, said):
    kwargs = {"crash_id": CRASH_ID} if RESOURCES[resource].needs_crash_id else {}
    with pytest.raises(ZohoAPIError) as excinfo:
        parse_page(_call(resource, **kwargs), body)
    assert excinfo.value.message == f"Apptics resource {resource!r} answered with an error: {said}"
    assert excinfo.value.code == code


@pytest.mark.parametrize(
    "body",
    [{"status": "success", "data": []}, {"status": 200, "result": {}}, {"data": [], "message": "OK"}],
    ids=["status-success", "status-200", "message-beside-data"],
)
def test_success_envelopes_are_not_errors(body):
    assert parse_page(_call("crashes"), body) == []


@pytest.mark.parametrize(
    ("resource", "body"),
    [
        ("crashes", {"data": [ROW], "status": "success", "message": "OK", "code": 0, "userParams": {}}),
        (
            "event_counts_by_country",
            {"result": {"INDIA": 5}, "status": 200, "message": "OK", "code": 0, "userParams": {}},
        ),
    ],
    ids=["data", "result"],
)
def test_every_envelope_key_may_sit_beside_the_rows(resource, body):
    assert len(parse_page(_call(resource), body)) == 1


def test_a_body_without_error_code_or_failure_status_is_not_an_error_body():
    body = {"status": "success", "message": "OK"}
    with pytest.raises(ZohoAPIError) as excinfo:
        parse_page(_call("crashes"), body)
    assert excinfo.value.message == (
        "Apptics resource 'crashes' answered with an unexpected shape: expected {\"data\": [row...]} or a "
        "bare [row...], got dict {'status': 'success', 'message': 'OK'}"
    )
    assert excinfo.value.code is None


# --------------------------------------------------------------------------------------------------------
# Shapes a resource never sends: the message names the resource, the place and what came instead
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", list(RESOURCES), ids=list(RESOURCES))
def test_a_bare_string_is_a_shape_error_for_every_resource(resource):
    kwargs = {"crash_id": CRASH_ID} if RESOURCES[resource].needs_crash_id else {}
    with pytest.raises(ZohoAPIError) as excinfo:
        parse_page(_call(resource, **kwargs), "Service unavailable")
    assert excinfo.value.message == (
        f"Apptics resource {resource!r} answered with an unexpected shape: expected "
        f"{RESOURCES[resource].envelope}, got str 'Service unavailable'"
    )


@pytest.mark.parametrize(
    ("resource", "kwargs", "body", "where", "found"),
    [
        ("crash_counts_by_date", {}, {"crashcount": [1]}, "metric 'crashcount'", "list [1]"),
        ("crash_issue_counts_by_date", {"crash_id": CRASH_ID}, {"crashcount": 3}, "metric 'crashcount'",
         "int 3"),
        ("crash_detail", {"crash_id": CRASH_ID}, {"data": [{"OS": "iOS"}, 7]}, "", "int 7"),
        ("projects", {}, {"result": [{"zsoid": 1}, "portal"]}, "", "str 'portal'"),
        ("projects", {}, {"result": [{"zsoid": 1, "projects": {"projectId": 2}}]}, "projects",
         "dict {'projectId': 2}"),
    ],
    ids=["metric-without-platform-level", "issue-metric", "detail-row", "portal", "portal-projects"],
)  # fmt: skip
def test_a_wrong_shape_inside_the_answer_names_where(resource, kwargs, body, where, found):
    with pytest.raises(ZohoAPIError) as excinfo:
        parse_page(_call(resource, **kwargs), body)
    place = f" at {where}" if where else ""
    assert excinfo.value.message == (
        f"Apptics resource {resource!r} answered with an unexpected shape{place}: expected "
        f"{RESOURCES[resource].envelope}, got {found}"
    )


def test_a_multigroup_path_is_named_level_by_level():
    call = _call("api_stats", group="api,date,platform")
    with pytest.raises(ZohoAPIError) as excinfo:
        parse_page(call, {"result": {"login": {"01-07-2024": 5}}})
    assert excinfo.value.message == (
        "Apptics resource 'api_stats' answered with an unexpected shape at login > 2024-07-01: expected "
        "counts nested 3 level(s) deep in group order (api, date, platform), got int 5"
    )


# --------------------------------------------------------------------------------------------------------
# Empty parts of an answer are skipped, not the end of it
# --------------------------------------------------------------------------------------------------------


def test_an_empty_platform_list_does_not_hide_the_next_platform():
    body = {"data": {"result": {"iOS": [], "Android": [{"DATE": 0, "ActiveDevices COUNT": "2"}]}}}
    assert parse_page(_call("active_devices_by_date"), body) == [
        {"platform": "Android", "bucket_start": "1970-01-01T00:00:00Z", "active_devices": 2}
    ]


def test_an_empty_metric_map_does_not_hide_the_next_metric():
    body = {"ios": {"crashcount": {}, "usercount": {"0": "2"}}}
    assert parse_page(_call("crash_counts_by_date"), body) == [
        {
            "platform": "ios",
            "bucket_start": "1970-01-01T00:00:00Z",
            "crash_count": None,
            "device_count": None,
            "user_count": 2,
            "issue_count": None,
        }
    ]


# --------------------------------------------------------------------------------------------------------
# Envelope variants and edge cases of single resources
# --------------------------------------------------------------------------------------------------------


def test_crash_detail_accepts_a_list_of_occurrences():
    body = {"data": [{"OS": "iOS", "OSVersion": "15.5"}, {"OS": "Android", "UniqueMessageID": "9"}]}
    records = parse_page(_call("crash_detail", crash_id=CRASH_ID), body)
    assert [(r["crash_id"], r["os"], r["os_version"]) for r in records] == [
        (CRASH_ID, "iOS", "15.5"),
        ("9", "Android", None),
    ]


def test_crash_summary_flattens_only_the_count_blocks():
    body = {"crashcount": {"crashcount": 3}, "trend": {"week": "up"}}
    (record,) = parse_page(_call("crash_summary"), body)
    assert record["crash_count"] == 3
    assert list(record)[-1:] == ["trend"]
    assert record["trend"] == {"week": "up"}


def test_projects_accept_a_single_portal_object():
    body = {"result": {"zsoid": "1", "portalName": "P", "projects": [{"projectId": "2", "projectName": "Q"}]}}
    assert parse_page(_call("projects"), body) == [
        {"portal_id": "1", "portal_name": "P", "project_id": "2", "project_name": "Q", "platforms": None}
    ]


def test_event_device_counts_split_a_one_character_name():
    assert parse_page(_call("event_device_counts"), {"result": {"a(b)": 1}}) == [
        {
            "window_start": MAR_12,
            "window_end": MAR_13,
            "event_name": "a",
            "event_group": "b",
            "device_count": 1,
        }
    ]


def test_event_device_counts_of_a_call_without_window_leave_the_window_empty():
    call = dataclasses.replace(_call("event_device_counts"), window_start=None, window_end=None)
    assert parse_page(call, {"result": {"a(b)": 1}}) == [
        {"window_start": None, "window_end": None, "event_name": "a", "event_group": "b", "device_count": 1}
    ]


def test_multigroup_keys_look_like_dates_only_under_date():
    call = _call("active_devices", group="appversion,date")
    assert parse_page(call, {"result": {"01-02-2024": {"03-04-2024": 5}}}) == [
        {"appversion": "01-02-2024", "date": "2024-04-03", "count": 5}
    ]
