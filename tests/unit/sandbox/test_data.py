from __future__ import annotations

from airflow_provider_zoho.sandbox import data
from airflow_provider_zoho.sandbox.query import DEFAULT_PLATFORMS, PLATFORMS


def test_one_platform_list_serves_every_table():
    platforms = set(data.PLATFORMS)
    assert len(platforms) == len(data.PLATFORMS) == 6
    for table in (
        data.PLATFORM_IDS,
        data.PLATFORM_SCALE,
        data.SDK_VERSIONS,
        data.BUNDLES,
        data.DEVICE_TYPES,
        data.MODELS,
        data.OS_VERSIONS,
        data.EXCEPTIONS,
    ):
        assert set(table) == platforms
    assert set(data.ISSUE_PLATFORMS) == platforms
    assert set(data.APPLE_PLATFORMS) < platforms
    assert PLATFORMS is data.PLATFORMS  # request validation takes the same list
    assert DEFAULT_PLATFORMS == data.MAIN_PLATFORMS == ("iOS", "Android")
    assert [data.PLATFORM_INDEX[p] for p in data.PLATFORMS] == list(range(6))


def test_canonical_value_lists_cover_every_platform_once():
    assert data.ALL_BUNDLES == tuple(dict.fromkeys(b for p in data.PLATFORMS for b in data.BUNDLES[p]))
    assert len(set(data.ALL_DEVICE_TYPES)) == len(data.ALL_DEVICE_TYPES)
    assert {d for p in data.PLATFORMS for d in data.DEVICE_TYPES[p]} == set(data.ALL_DEVICE_TYPES)
    assert len(data.WEEKDAY_FACTOR) == 7
    assert data.VERSION_INDEX == {v: i for i, v in enumerate(data.APP_VERSIONS)}
