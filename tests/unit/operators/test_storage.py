"""Unit tests for the storage contract's parts that need no operator run: what a partition's keys may be."""

from __future__ import annotations

import pytest

from airflow_provider_zoho.exceptions import ZohoConfigError
from airflow_provider_zoho.operators.storage import EVENT_FIELDS, Extraction

WINDOW = (("start", "2026-03-07"), ("end", "2026-03-07"))


def test_identity_levels_precede_the_window():
    extraction = Extraction(WINDOW, [], identity=(("group", "country"), ("platforms", "iOS")))
    assert extraction.keys == (("group", "country"), ("platforms", "iOS"), *WINDOW)


@pytest.mark.parametrize(
    ("identity", "clash"),
    [
        ((("start", "x"),), "the window's 'start' level"),
        ((("END", "x"),), "the window's 'end' level"),
        ((("records", "7"),), "the asset event's 'records' field"),
        ((("path", "/x"),), "the asset event's 'path' field"),
        ((("bundle", "a"), ("Bundle", "b")), "the parameter 'bundle'"),
    ],
    ids=["start", "end-any-case", "records", "path", "twice-any-case"],
)
def test_identity_names_never_clash_with_another_key(identity, clash):
    with pytest.raises(ZohoConfigError, match="cannot be part of the partition's path") as error:
        Extraction(WINDOW, [], identity=identity)
    assert f"it clashes with {clash}" in str(error.value)


def test_every_event_field_is_reserved():
    for field in EVENT_FIELDS:
        with pytest.raises(ZohoConfigError, match=field):
            Extraction(WINDOW, [], identity=((field, "x"),))
