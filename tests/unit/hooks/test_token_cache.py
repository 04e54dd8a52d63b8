from __future__ import annotations

import copy
import datetime
import json
import math
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import ZohoAuthError, ZohoRateLimitError
from airflow_provider_zoho.hooks import token_cache
from airflow_provider_zoho.hooks.token_cache import (
    AccessToken,
    CacheRecord,
    LeaseKeeper,
    TokenCache,
    VariableStore,
    parse_record,
    variable_key,
)
from airflow_provider_zoho.leases import Lease
from tests.conftest import case_id


class Clock:
    """Virtual time: sleeping advances it, so lease timing is exact and instant."""

    def __init__(self, now: float = 10_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class DictStore:
    """
    A token-cache store holding the raw (decoded JSON) value, with an optional hook run on every read.

    It reads through :func:`parse_record`, as ``VariableStore`` does, so ``record`` may be any value.
    """

    def __init__(self, record=None, on_read=None) -> None:
        self.record = {} if record is None else record
        self.writes: list[dict] = []
        self.reads = 0
        self.on_read = on_read
        self.lock = threading.Lock()

    def read(self) -> CacheRecord:
        with self.lock:
            self.reads += 1
        if self.on_read:
            self.on_read(self)
        return parse_record(copy.deepcopy(self.record))

    def write(self, record: CacheRecord) -> None:
        value = record.to_json()
        with self.lock:
            self.writes.append(value)
            self.record = value


class Minter:
    def __init__(self, clock: Clock, outcomes: list | None = None) -> None:
        self.clock = clock
        self.outcomes = list(outcomes or [])
        self.calls = 0

    def __call__(self) -> AccessToken:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else f"minted-{self.calls}"
        if isinstance(outcome, BaseException):
            raise outcome
        return AccessToken(outcome, expires_at=self.clock.now + 3600, refreshed_at=self.clock.now)


def cache(store, clock, margin=300) -> TokenCache:
    return TokenCache("conn", margin, store, clock=clock.time, sleep=clock.sleep)


def stored(token: str, expires_at: float, lease=None) -> dict:
    return {
        "access_token": token,
        "expires_at": expires_at,
        "api_domain": None,
        "refreshed_at": 0,
        "lease": lease,
    }


def holder_publishes_on_read(clock: Clock, read: int):
    """A ``DictStore.on_read`` hook: the lease holder's token appears at the ``read``-th read."""

    def on_read(store):
        if store.reads == read:
            store.record = stored("from-holder", clock.now + 3600)

    return on_read


THROTTLED = ZohoRateLimitError("throttled", status_code=400, code="Access Denied")


def test_cold_cache_mints_once_and_publishes_the_token():
    clock, store = Clock(), DictStore()
    mint = Minter(clock)
    token = cache(store, clock).get(mint)
    assert (token.access_token, mint.calls) == ("minted-1", 1)
    assert store.record["access_token"] == "minted-1"
    assert store.record["lease"] is None
    assert store.record["expires_at"] == clock.now + 3600
    # the lease was written first, then the token
    assert store.writes[0]["lease"]["until"] == pytest.approx(10_000.0 + TokenCache.lease_seconds)
    assert clock.slept == [TokenCache.settle_seconds]


def test_usable_token_in_the_variable_is_used_without_minting():
    clock = Clock()
    store = DictStore(stored("shared", clock.now + 1000))
    mint = Minter(clock)
    assert cache(store, clock).get(mint).access_token == "shared"
    assert mint.calls == 0
    assert store.writes == []


def test_a_token_read_from_the_variable_is_masked_before_it_is_used(mask_calls):
    """Anybody may log what the cache returns: Airflow's masker must know the token first."""
    clock = Clock()
    store = DictStore(stored("1000.shared-token", clock.now + 1000))
    assert cache(store, clock).get(Minter(clock)).access_token == "1000.shared-token"
    assert mask_calls == ["1000.shared-token"]


def test_token_within_the_margin_is_replaced():
    clock = Clock()
    store = DictStore(stored("nearly-expired", clock.now + 299))
    mint = Minter(clock)
    assert cache(store, clock, margin=300).get(mint).access_token == "minted-1"


def test_memo_avoids_reading_the_variable_again():
    clock, store = Clock(), DictStore()
    shared = cache(store, clock)
    shared.get(Minter(clock))
    reads = store.reads
    assert cache(store, clock).get(Minter(clock)).access_token == "minted-1"
    assert store.reads == reads


def test_waits_for_the_lease_holder_instead_of_minting_and_says_so_once(caplog):
    clock = Clock()
    store = DictStore(
        {"lease": {"owner": "other-host:1", "until": clock.now + 30}},
        on_read=holder_publishes_on_read(clock, 3),
    )
    mint = Minter(clock)
    with caplog.at_level("INFO", logger=token_cache.log.name):
        assert cache(store, clock).get(mint).access_token == "from-holder"
    assert mint.calls == 0
    assert store.writes == []  # never competed for the lease
    assert clock.slept == [TokenCache.poll_seconds] * 2
    waiting = [message for message in caplog.messages if message.startswith("Waiting")]
    assert waiting == ["Waiting for 'other-host:1' to refresh the Zoho access token."]  # once, for 2 polls


@pytest.mark.parametrize(
    ("reads", "gets_token"), [(3, True), (4, False)], ids=["holder-done-by-the-last-read", "holder-later"]
)
def test_a_waiter_reads_once_more_at_its_deadline(reads, gets_token):
    # max wait 1 s, polls of 0.5 s: reads at +0, +0.5, +1.0 (the deadline itself: not yet past it), +1.5.
    clock = Clock()
    store = DictStore(
        {"lease": {"owner": "other-host:1", "until": clock.now + 30}},
        on_read=holder_publishes_on_read(clock, reads + 1),
    )
    waiter = TokenCache("conn", 300, store, clock=clock.time, sleep=clock.sleep, max_wait_seconds=1.0)
    if gets_token:
        assert waiter.get(Minter(clock)).access_token == "from-holder"
    else:
        with pytest.raises(ZohoRateLimitError):
            waiter.get(Minter(clock))
    assert clock.slept == [TokenCache.poll_seconds] * 3


def test_takes_over_an_expired_lease():
    clock = Clock()
    store = DictStore({"lease": {"owner": "crashed-worker", "until": clock.now - 1}})
    mint = Minter(clock)
    assert cache(store, clock).get(mint).access_token == "minted-1"
    assert mint.calls == 1


def test_loser_of_a_lease_race_does_not_mint():
    clock = Clock()

    def rival_overwrites_the_lease(store):
        # read 2 is the read-back after the settle delay: a rival's lease landed meanwhile
        if store.reads == 2:
            store.record = {"lease": {"owner": "rival", "until": clock.now + 30}}
        if store.reads == 4:
            store.record = stored("rival-token", clock.now + 3600)

    store = DictStore(on_read=rival_overwrites_the_lease)
    mint = Minter(clock)
    assert cache(store, clock).get(mint).access_token == "rival-token"
    assert mint.calls == 0


def test_throttle_keeps_the_lease_for_the_back_off_then_retries():
    clock, store = Clock(), DictStore()
    mint = Minter(clock, [THROTTLED, "after-back-off"])
    assert cache(store, clock).get(mint).access_token == "after-back-off"
    claim, throttle_lease = [w["lease"] for w in store.writes if w.get("lease")][:2]
    assert throttle_lease["owner"] == claim["owner"]  # still this process's lease: nobody else mints
    assert throttle_lease["until"] == pytest.approx(10_000.0 + TokenCache.settle_seconds + 30.0)
    assert sum(clock.slept) >= 30.0  # waited the back-off before asking Zoho again
    assert mint.calls == 2


def test_while_throttled_a_token_published_by_anyone_is_taken():
    clock = Clock()
    mint = Minter(clock, [THROTTLED])

    def token_appears_during_back_off(store):
        if mint.calls == 1 and store.reads == 4:
            store.record = stored("published-elsewhere", clock.now + 3600)

    store = DictStore(on_read=token_appears_during_back_off)
    assert cache(store, clock).get(mint).access_token == "published-elsewhere"
    assert mint.calls == 1


def test_endless_throttle_gives_up_with_advice(monkeypatch):
    monkeypatch.setattr(TokenCache, "max_wait_seconds", 200.0)
    clock, store = Clock(), DictStore()
    mint = Minter(clock, [THROTTLED] * 10)
    with pytest.raises(ZohoRateLimitError, match="give each deployment its own refresh token"):
        cache(store, clock).get(mint)
    assert mint.calls == 3  # 30 s, 60 s, then 120 s back-offs exhaust 200 s


@pytest.mark.parametrize(
    ("max_wait", "gives_up"), [(30.0, False), (29.0, True)], ids=["wait-equals-back-off", "one-second-short"]
)
def test_outside_a_task_a_throttled_mint_backs_off_while_the_wait_allows(caplog, max_wait, gives_up):
    clock = Clock()
    memo_only = TokenCache("conn", 300, clock=clock.time, sleep=clock.sleep, max_wait_seconds=max_wait)
    mint = Minter(clock, [THROTTLED])
    with caplog.at_level("WARNING", logger=token_cache.log.name):
        if gives_up:
            with pytest.raises(ZohoRateLimitError, match="give each deployment its own refresh token"):
                memo_only.get(mint)
        else:
            assert memo_only.get(mint).access_token == "minted-2"
    assert clock.slept == ([] if gives_up else [30.0])
    expected = [] if gives_up else ["Zoho throttled token creation; waiting 30 s before asking again."]
    assert [message for message in caplog.messages if "throttled" in message] == expected


def test_failed_mint_releases_the_lease_and_raises():
    clock, store = Clock(), DictStore()
    mint = Minter(clock, [ZohoAuthError("revoked", code="invalid_code")])
    with pytest.raises(ZohoAuthError):
        cache(store, clock).get(mint)
    assert store.record["lease"] is None


def test_a_failed_mint_leaves_the_token_it_found():
    clock = Clock()
    store = DictStore(stored("ending", clock.now + 200))  # within the margin: refreshed, still valid
    with pytest.raises(ZohoAuthError):
        cache(store, clock).get(Minter(clock, [ZohoAuthError("revoked", code="invalid_code")]))
    assert (store.record["access_token"], store.record["lease"]) == ("ending", None)


@pytest.mark.parametrize(
    ("max_wait", "gives_up"), [(31.0, False), (30.5, True)], ids=["back-off-ends-on-it", "after-it"]
)
def test_a_throttled_holder_backs_off_when_the_back_off_ends_by_its_deadline(max_wait, gives_up):
    # claim, settle (1 s), throttled mint: the 30 s back-off ends at +31 s
    clock, store = Clock(), DictStore()
    holder = TokenCache("conn", 300, store, clock=clock.time, sleep=clock.sleep, max_wait_seconds=max_wait)
    mint = Minter(clock, [THROTTLED, "after-back-off"])
    if gives_up:
        with pytest.raises(ZohoRateLimitError):
            holder.get(mint)
        assert mint.calls == 1
    else:
        assert holder.get(mint).access_token == "after-back-off"


def test_throttled_holders_say_how_long_nobody_asks_doubling_up_to_the_cap(caplog):
    clock, store = Clock(), DictStore()
    mint = Minter(clock, [THROTTLED] * 4 + ["at-last"])
    with caplog.at_level("WARNING", logger=token_cache.log.name):
        assert cache(store, clock).get(mint).access_token == "at-last"
    assert [m for m in caplog.messages if "throttled" in m] == [
        f"Zoho throttled token creation for connection 'conn'; nobody will ask again for {seconds} s."
        for seconds in (30, 60, 120, 120)
    ]


def test_a_throttled_holder_keeps_its_lease_alive_through_the_back_off(monkeypatch):
    monkeypatch.setattr(TokenCache, "lease_seconds", 0.03)  # a renewal every 10 ms (real time)
    monkeypatch.setattr(TokenCache, "throttle_backoff_seconds", (0.2, 0.2))
    main = threading.current_thread()
    store = DictStore()
    renewed = threading.Event()
    real_write = store.write

    def write(record):
        real_write(record)
        if threading.current_thread() is not main:
            renewed.set()

    store.write = write
    mint_outcomes = [THROTTLED]

    def mint():
        if mint_outcomes:
            raise mint_outcomes.pop()
        return AccessToken("after-back-off", expires_at=10**12, refreshed_at=1)

    def back_off(seconds):  # the back-off's polls wait (in real time) for the keeper's first renewal
        if not mint_outcomes:
            assert renewed.wait(timeout=10), "the lease was not renewed during the back-off"

    holder = TokenCache("conn", 300, store, sleep=back_off)
    assert holder.get(mint).access_token == "after-back-off"
    renewals = [w for w in store.writes if w["lease"] and w["access_token"] is None]
    owners = {lease["owner"] for lease in (w["lease"] for w in renewals)}
    assert len(owners) == 1
    assert len(renewals) >= 3  # claim, the back-off's lease, a renewal


def test_a_slow_mint_of_one_connection_does_not_hold_up_another():
    started, release = threading.Event(), threading.Event()

    def slow_mint():
        started.set()
        assert release.wait(timeout=10)
        return AccessToken("slow", expires_at=10**12, refreshed_at=1)

    def fast_mint():
        return AccessToken("fast", expires_at=10**12, refreshed_at=1)

    results = {}
    slow = threading.Thread(
        target=lambda: results.update(
            a=TokenCache("conn-a", 300, DictStore(), sleep=lambda s: None).get(slow_mint)
        )
    )
    slow.start()
    try:
        assert started.wait(timeout=10)
        fast = threading.Thread(
            target=lambda: results.update(
                b=TokenCache("conn-b", 300, DictStore(), sleep=lambda s: None).get(fast_mint)
            )
        )
        fast.start()
        fast.join(timeout=10)
        assert "b" in results, "the other connection waited for the slow mint"
        assert results["b"].access_token == "fast"
    finally:
        release.set()
        slow.join(timeout=10)
    assert results["a"].access_token == "slow"


def test_outside_a_task_the_fallback_is_said_once_per_connection(caplog):
    clock = Clock()
    with caplog.at_level("WARNING", logger=token_cache.log.name):
        for conn_id in ("conn", "other"):
            memo_only = TokenCache(conn_id, 300, clock=clock.time, sleep=clock.sleep)
            token = memo_only.get(Minter(clock)).access_token
            assert memo_only.invalidate(token) is True  # looks for the shared store again
            memo_only.get(Minter(clock))
    assert caplog.messages == [
        f"Not inside a running Airflow task, so Variables cannot be written here: the Zoho access token of "
        f"connection {conn_id!r} is cached in this process only. Each such process mints its own token (Zoho "
        "allows 10 per 10 minutes per refresh token)."
        for conn_id in ("conn", "other")
    ]


def test_the_waiting_line_shows_at_most_100_characters_of_a_lease_owner(caplog):
    clock = Clock()
    owner = "w" * 300  # the Variable is untrusted: a huge owner must not flood the task log
    store = DictStore(
        {"lease": {"owner": owner, "until": clock.now + 30}}, on_read=holder_publishes_on_read(clock, 3)
    )
    with caplog.at_level("INFO", logger=token_cache.log.name):
        cache(store, clock).get(Minter(clock))
    assert [m for m in caplog.messages if m.startswith("Waiting")] == [
        f"Waiting for {'w' * 100!r} to refresh the Zoho access token."
    ]


def test_invalidate_clears_only_the_rejected_token():
    clock = Clock()
    store = DictStore(stored("current", clock.now + 3600))
    shared = cache(store, clock)
    shared.get(Minter(clock))
    assert shared.invalidate("older-token") is False
    assert store.record["access_token"] == "current"
    assert shared.invalidate("current") is True
    assert store.record["access_token"] is None
    assert shared.get(Minter(clock)).access_token == "minted-1"


def test_threads_in_one_process_mint_exactly_once():
    store = DictStore()
    mint_calls = []
    barrier = threading.Barrier(12)

    def mint():
        mint_calls.append(1)
        return AccessToken("threaded", expires_at=10**12)

    results = []

    def worker():
        barrier.wait()
        results.append(TokenCache("conn", 300, store, sleep=lambda s: None).get(mint).access_token)

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["threaded"] * 12
    assert len(mint_calls) == 1


def test_access_token_repr_hides_the_token():
    assert "hide-me" not in repr(AccessToken("hide-me", expires_at=1.0))


def test_variable_key_contains_token_so_airflow_masks_it():
    assert variable_key("zoho_default") == "zoho_oauth_token__zoho_default"
    assert "token" in variable_key("x")


class TestVariableStore:
    def test_round_trip_through_variable(self, variables):
        store = VariableStore("zoho_oauth_token__x")
        assert store.read() == CacheRecord()
        record = CacheRecord(AccessToken("t", 2000.0, "https://api", 1000.0), Lease("me", 5.0))
        store.write(record)
        assert store.read() == record
        assert json.loads(variables.store["zoho_oauth_token__x"]) == {
            "access_token": "t",
            "expires_at": 2000.0,
            "api_domain": "https://api",
            "refreshed_at": 1000.0,
            "lease": {"owner": "me", "until": 5.0},
        }
        # what the Variables list of the UI shows next to the key
        assert variables.descriptions["zoho_oauth_token__x"] == (
            "Zoho access-token cache managed by airflow-provider-zoho (safe to delete)."
        )

    @pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"'], ids=["garbage", "list", "string"])
    def test_unreadable_value_counts_as_empty(self, variables, raw):
        variables.store["k"] = raw
        record = VariableStore("k").read()
        assert (record.token, record.lease) == (None, None)
        assert [field for field, _ in record.problems] == ["value"]

    def test_reads_around_the_secrets_cache(self, variables, monkeypatch):
        """The key leaves Airflow's SecretCache right before each read (the integration test proves why)."""
        events: list[tuple[str, str]] = []
        monkeypatch.setattr(token_cache, "forget_cached_variable", lambda key: events.append(("forget", key)))
        real_get = variables.get
        monkeypatch.setattr(
            variables, "get", lambda key, *a: events.append(("get", key)) or real_get(key, *a)
        )
        store = VariableStore("zoho_oauth_token__x")
        store.read()
        store.read()
        assert events == [("forget", store.key), ("get", store.key)] * 2

    def test_forgetting_drops_the_key_from_the_secrets_cache(self, monkeypatch):
        from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

        if AIRFLOW_V_3_0_PLUS:
            from airflow.sdk.execution_time.cache import SecretCache
        else:
            from airflow.secrets.cache import SecretCache
        # As after SecretCache.init() with [secrets] use_cache on (a plain dict instead of a manager's).
        monkeypatch.setattr(SecretCache, "_cache", {})
        monkeypatch.setattr(SecretCache, "_ttl", datetime.timedelta(minutes=15), raising=False)
        SecretCache.save_variable("zoho_oauth_token__x", "stale")
        SecretCache.save_variable("other", "kept")
        token_cache.forget_cached_variable("zoho_oauth_token__x")
        with pytest.raises(SecretCache.NotPresentException):
            SecretCache.get_variable("zoho_oauth_token__x")
        assert SecretCache.get_variable("other") == "kept"

    def test_forgetting_works_when_the_secrets_cache_is_off(self):
        token_cache.forget_cached_variable("zoho_oauth_token__never_cached")  # a no-op, not an error


# -- any Variable value is a record; corrupt parts are ignored, never raised -------------------------------

NOW = 10_000.0

CORRUPT_VALUES = [
    "not json",
    "",
    "[1, 2]",
    "null",
    "42",
    '"text"',
    "NaN",
    "{" * 5000,  # nested too deep for the JSON parser
    {"access_token": None, "lease": "x"},
    [1, 2],
    {"lease": {"until": "zz"}},
    {"lease": {"until": None}},
    {"lease": {"owner": "o", "until": float("nan")}},
    {"lease": {"owner": "o", "until": float("inf")}},
    {"lease": {"owner": "o", "until": 10**400}},
    {"lease": {"owner": ["o"], "until": NOW + 20}},
    {"lease": {"owner": "o", "until": True}},
    {"access_token": 12345, "expires_at": NOW + 3600},
    {"access_token": {"t": 1}, "expires_at": NOW + 3600},
    {"access_token": "has space", "expires_at": NOW + 3600},
    {"access_token": "tok\r\nX-Injected: 1", "expires_at": NOW + 3600},
    {"access_token": "tok", "expires_at": "inf"},
    {"access_token": "tok", "expires_at": float("inf")},
    {"access_token": "tok", "expires_at": float("nan")},
    {"access_token": "tok", "expires_at": 10**400},
    {"access_token": "tok", "expires_at": "9999999999"},
    {"access_token": "tok", "expires_at": True},
    {"access_token": "tok"},
]


@pytest.mark.parametrize("value", CORRUPT_VALUES, ids=case_id)
def test_corrupt_value_is_no_token_and_no_lease(value):
    record = parse_record(value)
    assert (record.token, record.lease) == (None, None)


@pytest.mark.parametrize("value", CORRUPT_VALUES, ids=case_id)
def test_corrupt_variable_costs_one_mint_and_is_repaired(value):
    clock = Clock(NOW)
    store = DictStore(value)
    mint = Minter(clock)
    assert cache(store, clock).get(mint).access_token == "minted-1"
    assert mint.calls == 1
    assert sum(clock.slept) == TokenCache.settle_seconds  # no wait for a lease that is not one
    assert parse_record(store.record) == CacheRecord(AccessToken("minted-1", NOW + 1 + 3600, None, NOW + 1))


def test_parts_that_do_not_validate_are_ignored_and_named():
    record = parse_record(
        {
            "access_token": "tok",
            "expires_at": NOW + 3600,
            "api_domain": 7,
            "refreshed_at": NOW + 7200,  # after expiry: unknown
            "lease": {"owner": "", "until": NOW},
        }
    )
    assert record.token == AccessToken("tok", NOW + 3600, None, 0.0)
    assert record.lease is None
    assert record.problems == (
        ("refreshed_at", "is not a time between 0 and expires_at"),
        ("api_domain", "is not text"),
        ("lease", 'is not {"owner": <text>, "until": <finite number>}'),
    )


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        ("{not json", (("value", "is not JSON"),)),
        ("[1, 2]", (("value", "is not a JSON object"),)),
        (
            {"access_token": "two words", "expires_at": NOW},
            (("access_token", "is not a token (visible ASCII text)"),),
        ),
    ],
    ids=["not-json", "not-an-object", "not-a-token"],
)
def test_what_is_wrong_with_a_value_is_said_for_the_status_command(value, problems):
    record = parse_record(value)
    assert (record.token, record.problems) == (None, problems)


@pytest.mark.parametrize(
    ("refreshed_at", "expires_at", "kept", "said"),
    [
        (0, 100.0, 0.0, False),
        (0.5, 100.0, 0.5, False),
        (100.0, 100.0, 100.0, False),  # refreshed at the instant it expires: odd, but a time in range
        (100.5, 100.0, 0.0, True),
        (1, 0.5, 0.0, True),
        (0, -5.0, 0.0, False),  # 0 is "unknown", never a problem
    ],
    ids=case_id,
)
def test_refreshed_at_is_kept_between_0_and_expires_at(refreshed_at, expires_at, kept, said):
    record = parse_record({"access_token": "tok", "expires_at": expires_at, "refreshed_at": refreshed_at})
    assert record.token is not None
    assert record.token.refreshed_at == kept
    assert record.problems == ((("refreshed_at", "is not a time between 0 and expires_at"),) if said else ())


def test_a_valid_record_round_trips():
    record = CacheRecord(
        AccessToken("1000.a.b", NOW, "https://www.zohoapis.eu", NOW - 3600), Lease("w:1:x", NOW)
    )
    assert parse_record(json.dumps(record.to_json())) == record
    assert parse_record(json.dumps(record.to_json())).problems == ()


JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
#: Record-shaped values with every field drawn from anything JSON can hold (and plausible values).
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "access_token": JSON | st.text(max_size=30) | st.just("1000.tok.en"),
        "expires_at": JSON | st.floats(NOW - 1000, NOW + 5000),
        "api_domain": JSON,
        "refreshed_at": JSON | st.floats(NOW - 4000, NOW),
        "lease": JSON
        | st.fixed_dictionaries(
            {}, optional={"owner": JSON | st.text(max_size=10), "until": JSON | st.floats()}
        ),
    },
)


@given(st.one_of(JSON, RECORDS, st.text(max_size=50), RECORDS.map(lambda r: json.dumps(r))))
def test_parse_record_never_raises_and_validates(value):
    record = parse_record(value)
    if record.token is not None:
        token = record.token
        assert token_cache.is_token_text(token.access_token)
        assert math.isfinite(token.expires_at)
        assert 0 <= token.refreshed_at <= token.expires_at
        assert token.api_domain is None or isinstance(token.api_domain, str)
        assert parse_record(json.dumps(record.to_json())).token == token
    if record.lease is not None:
        assert record.lease.owner
        assert math.isfinite(record.lease.until)


# -- leases are honoured one lease period at most ---------------------------------------------------------


def test_a_ghost_lease_delays_by_one_lease_period_only():
    clock = Clock(NOW)
    store = DictStore({"access_token": None, "lease": {"owner": "ghost", "until": 1e18}})
    mint = Minter(clock)
    assert cache(store, clock).get(mint).access_token == "minted-1"
    assert mint.calls == 1
    waited = sum(clock.slept) - TokenCache.settle_seconds
    assert TokenCache.lease_seconds <= waited <= TokenCache.lease_seconds + TokenCache.poll_seconds


def test_a_renewed_lease_keeps_waiters_waiting():
    """A live holder renews its lease: a waiter keeps waiting past one lease period, and never mints."""
    clock = Clock(NOW)

    def holder_renews_then_publishes(store):
        if clock.now < NOW + 100:
            store.record = {"lease": {"owner": "holder", "until": clock.now + 5}}
        else:
            store.record = stored("from-holder", clock.now + 3600)

    store = DictStore(on_read=holder_renews_then_publishes)
    mint = Minter(clock)
    assert cache(store, clock).get(mint).access_token == "from-holder"
    assert mint.calls == 0
    assert store.writes == []


# -- the margin in force ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("left", "minted"), [(300, True), (301, False)], ids=["exactly-margin", "one-more"])
def test_margin_boundary(left, minted):
    clock = Clock(NOW)
    store = DictStore(stored("shared", NOW + left))
    mint = Minter(clock)
    token = cache(store, clock, margin=300).get(mint)
    assert (token.access_token, mint.calls) == (("minted-1", 1) if minted else ("shared", 0))


def test_the_margin_in_force_is_at_most_half_the_tokens_life():
    clock = Clock(NOW)
    # Zoho granted 200 s; 150 s are left. The 300 s margin would refuse it, half its life (100 s) does not.
    store = DictStore({**stored("short-lived", NOW + 150), "refreshed_at": NOW - 50})
    mint = Minter(clock)
    assert cache(store, clock, margin=300).get(mint).access_token == "short-lived"
    assert mint.calls == 0
    assert AccessToken("t", NOW + 150, None, NOW - 50).margin_in_force(300) == 100.0
    assert AccessToken("t", NOW + 3600, None, NOW).margin_in_force(300) == 300.0
    assert (
        AccessToken("t", NOW + 0.5, None, NOW).margin_in_force(300) == 0.25
    )  # half of any life, however short
    assert AccessToken("t", NOW, None, NOW).margin_in_force(300) == 0.0


def test_a_token_shorter_than_the_margin_is_minted_once_for_many_calls():
    clock = Clock(NOW)

    class ShortMinter(Minter):
        def __call__(self) -> AccessToken:
            self.calls += 1
            return AccessToken(f"short-{self.calls}", clock.now + 200, refreshed_at=clock.now)

    mint = ShortMinter(clock)
    store = DictStore()
    tokens = [cache(store, clock, margin=300).get(mint).access_token for _ in range(10)]
    assert tokens == ["short-1"] * 10
    assert mint.calls == 1


# -- the lease holder keeps its lease alive while it mints ------------------------------------------------


def test_lease_is_renewed_while_the_mint_is_in_flight_and_never_after(monkeypatch):
    monkeypatch.setattr(TokenCache, "lease_seconds", 0.3)  # a renewal every 0.1 s (real time)
    store = DictStore()
    renewed = threading.Event()
    real_write = store.write

    def write(record):
        real_write(record)
        if record.token is None and record.lease is not None and len(store.writes) >= 3:
            renewed.set()  # the claim is write 1; a later lease-only write is a renewal

    store.write = write

    def slow_mint():
        assert renewed.wait(timeout=10), "the lease was not renewed while the mint was in flight"
        return AccessToken("slow", expires_at=10**12, refreshed_at=1)

    token = TokenCache("conn", 300, store, sleep=lambda s: None).get(slow_mint)
    assert token.access_token == "slow"
    leases = [w["lease"] for w in store.writes[:-1]]
    assert all(lease["owner"] == leases[0]["owner"] for lease in leases)
    assert [lease["until"] for lease in leases] == sorted(lease["until"] for lease in leases)
    # The token is the last write, and the keeper is gone: nothing can overwrite the token.
    assert store.writes[-1]["access_token"] == "slow"
    assert store.writes[-1]["lease"] is None
    assert not any(t.name == "zoho-lease-keeper" for t in threading.enumerate())


def test_a_lease_claim_leaves_the_token_in_the_variable():
    """A lease write changes only the lease: the Variable never loses the token it holds."""
    clock = Clock()
    store = DictStore(stored("ending", clock.now + 200))  # within the 300 s margin: refreshed
    assert cache(store, clock).get(Minter(clock)).access_token == "minted-1"
    claim = store.writes[0]
    assert claim["lease"] is not None
    assert claim["access_token"] == "ending"


def test_a_renewal_leaves_the_token_in_the_variable():
    store = DictStore({**stored("ending", NOW + 200), "lease": {"owner": "me", "until": NOW + 0.03}})
    with LeaseKeeper(store, "me", 0.03, clock=lambda: NOW) as keeper:
        while not store.writes:
            threading.Event().wait(0.01)
    assert keeper.renewals >= 1
    assert store.writes[0]["access_token"] == "ending"
    assert store.writes[0]["lease"] == {"owner": "me", "until": NOW + 0.03}


def test_the_keeper_renews_every_third_of_the_lease_from_a_daemon_thread():
    """A daemon thread, named in thread dumps, that never keeps a finished task's process alive."""
    waits: list[float] = []
    threads: list[threading.Thread] = []

    class StopAfterTwoRenewals:
        def wait(self, timeout):
            waits.append(timeout)
            threads.append(threading.current_thread())
            return len(waits) > 2

        def set(self):
            pass

    store = DictStore({"lease": {"owner": "me", "until": NOW}})
    keeper = LeaseKeeper(store, "me", 30.0, clock=lambda: NOW)
    keeper._stop = StopAfterTwoRenewals()  # its waits, without waiting
    with keeper:
        pass
    assert waits == [10.0, 10.0, 10.0]
    assert keeper.renewals == 2
    assert {(thread.name, thread.daemon) for thread in threads} == {("zoho-lease-keeper", True)}


def test_a_failed_renewal_is_logged_and_tried_again(caplog):
    class FailsOnce(DictStore):
        def write(self, record):
            if not self.writes and not getattr(self, "failed", False):
                self.failed = True
                raise OSError("the Variable could not be written")
            super().write(record)

    class ThreeWaits:
        waits = 0

        def wait(self, timeout):
            self.waits += 1
            return self.waits > 2

        def set(self):
            pass

    store = FailsOnce({"lease": {"owner": "me", "until": NOW}})
    keeper = LeaseKeeper(store, "me", 30.0, clock=lambda: NOW)
    keeper._stop = ThreeWaits()
    with caplog.at_level("WARNING", logger=token_cache.log.name), keeper:
        pass
    assert caplog.messages == ["Could not renew the Zoho token lease (OSError); trying again."]
    assert keeper.renewals == 1
    assert store.writes[0]["lease"] == {"owner": "me", "until": NOW + 30.0}


def test_keeper_stops_renewing_a_lease_it_lost():
    store = DictStore({"lease": {"owner": "someone-else", "until": 1e12}})
    with LeaseKeeper(store, "me", 0.03, clock=lambda: NOW) as keeper:
        while store.reads == 0:
            threading.Event().wait(0.01)
    assert keeper.renewals == 0
    assert store.writes == []


# -- the give-up advice, the back-off polling, invalidation ------------------------------------------------


def test_giving_up_says_why_and_what_to_do(monkeypatch):
    monkeypatch.setattr(TokenCache, "max_wait_seconds", 10.0)
    clock = Clock()
    with pytest.raises(ZohoRateLimitError) as error:
        cache(DictStore(), clock).get(Minter(clock, [THROTTLED]))
    assert str(error.value) == (
        "No Zoho access token for connection 'conn' within 10 s: Zoho throttles token creation (at most 10 "
        "per 10 minutes per refresh token). Another system probably shares this refresh token; give each "
        "deployment its own refresh token. [Zoho error 'Access Denied']"
    )
    assert error.value.code == "Access Denied"


def test_the_back_off_polls_every_four_poll_periods_and_ends_on_time(monkeypatch):
    monkeypatch.setattr(TokenCache, "throttle_backoff_seconds", (4.5, 4.5))
    clock, store = Clock(), DictStore()
    mint = Minter(clock, [THROTTLED, "after-back-off"])
    assert cache(store, clock).get(mint).access_token == "after-back-off"
    settle = TokenCache.settle_seconds
    poll = TokenCache.poll_seconds * 4
    # claim, settle, throttled mint; the back-off in polls of 2 s, the last one cut to end it exactly; then
    # the next round claims the lease again
    assert clock.slept == [settle, poll, poll, 4.5 - 2 * poll, settle]


def test_invalidate_in_the_memo_alone_says_it_dropped_the_token():
    clock = Clock()
    memo_only = TokenCache("conn", 300, clock=clock.time, sleep=clock.sleep)  # outside a task: no Variable
    memo_only.get(Minter(clock))
    assert memo_only.invalidate("minted-1") is True
    assert memo_only.invalidate("minted-1") is False
    assert TokenCache._memo == {}


def test_invalidate_keeps_the_lease_of_a_process_that_is_minting():
    clock = Clock()
    lease = {"owner": "minting-elsewhere", "until": clock.now + 30}
    store = DictStore(stored("rejected", clock.now + 3600, lease=lease))
    assert cache(store, clock).invalidate("rejected") is True
    assert store.record["access_token"] is None
    assert store.record["lease"] == lease


_real_shared_store_available = token_cache.shared_store_available  # the autouse fixture replaces it


@pytest.mark.parametrize("in_task", [True, False], ids=["in-a-task", "outside"])
def test_variables_are_writable_only_inside_a_running_task(monkeypatch, in_task):
    """Airflow 3 writes Variables through a running task's supervisor; Airflow 2 through the database."""
    from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time import task_runner

        if in_task:
            monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", object(), raising=False)
        else:  # the task runner sets it when it starts a task; until then the name does not exist
            monkeypatch.delattr(task_runner, "SUPERVISOR_COMMS", raising=False)
        monkeypatch.setattr(token_cache, "_metadata_db_reachable", lambda: pytest.fail("probed the database"))
    else:
        monkeypatch.setattr(token_cache, "_metadata_db_reachable", lambda: in_task)
    assert _real_shared_store_available() is in_task
