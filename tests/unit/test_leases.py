from __future__ import annotations

import math
import os
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_zoho.leases import Lease, LeaseWatch, new_owner


class TestParse:
    def test_reads_a_lease(self):
        assert Lease.parse({"owner": "h:1:ab", "until": 12}) == Lease("h:1:ab", 12.0)

    @pytest.mark.parametrize(
        "value",
        [
            None,
            "x",
            [1, 2],
            {},
            {"until": 5},
            {"owner": "", "until": 5},
            {"owner": 7, "until": 5},
            {"owner": "a"},
            {"owner": "a", "until": "zz"},
            {"owner": "a", "until": None},
            {"owner": "a", "until": True},
            {"owner": "a", "until": math.inf},
            {"owner": "a", "until": math.nan},
            {"owner": "a", "until": "5"},
            {"owner": "a", "until": 10**400},
        ],
        ids=repr,
    )
    def test_anything_else_is_no_lease(self, value):
        assert Lease.parse(value) is None

    @given(
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
            lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        )
    )
    def test_never_raises_on_json(self, value):
        lease = Lease.parse(value)
        assert lease is None or (lease.owner and math.isfinite(lease.until))

    def test_round_trips(self):
        lease = Lease("me", 1.5)
        assert Lease.parse(lease.to_json()) == lease


def test_owner_ids_are_unique():
    assert len({new_owner() for _ in range(100)}) == 100


def test_an_owner_id_names_the_host_and_process_holding_the_lease():
    """Waiters log the owner they wait for: it must say which host and process to look at."""
    host, pid, random = new_owner().rsplit(":", 2)
    assert (host, pid) == (socket.gethostname(), str(os.getpid()))
    assert len(random) == 8
    int(random, 16)


class TestWatch:
    def test_no_lease_is_not_honoured(self):
        assert not LeaseWatch(30).honoured(None, 100.0)

    def test_honoured_until_its_until(self):
        watch = LeaseWatch(30)
        lease = Lease("other", 110.0)
        assert watch.honoured(lease, 100.0)
        assert watch.honoured(lease, 109.9)
        assert not watch.honoured(lease, 110.0)

    def test_a_far_future_lease_is_honoured_one_period_from_first_sight(self):
        watch = LeaseWatch(30)
        ghost = Lease("ghost", 1e18)
        assert watch.honoured(ghost, 100.0)
        assert watch.honoured(ghost, 129.9)
        assert not watch.honoured(ghost, 130.0)
        assert not watch.honoured(ghost, 1000.0)

    def test_a_renewed_lease_is_a_new_lease(self):
        watch = LeaseWatch(30)
        assert watch.honoured(Lease("holder", 130.0), 100.0)
        # The holder renewed at 125: a new until, honoured for a new period.
        assert watch.honoured(Lease("holder", 155.0), 125.0)
        assert watch.honoured(Lease("holder", 155.0), 150.0)
        assert not watch.honoured(Lease("holder", 155.0), 155.0)
