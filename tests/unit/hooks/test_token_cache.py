from __future__ import annotations

import json
import threading

import pytest

from airflow_provider_zoho.exceptions import ZohoAuthError, ZohoRateLimitError
from airflow_provider_zoho.hooks.token_cache import AccessToken, TokenCache, VariableStore, variable_key


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
    """A token-cache store backed by a dict, with an optional hook run on every read."""

    def __init__(self, record: dict | None = None, on_read=None) -> None:
        self.record = dict(record or {})
        self.writes: list[dict] = []
        self.reads = 0
        self.on_read = on_read

    def read(self) -> dict:
        self.reads += 1
        if self.on_read:
            self.on_read(self)
        return dict(self.record)

    def write(self, value: dict) -> None:
        self.writes.append(dict(value))
        self.record = dict(value)


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


def test_waits_for_the_lease_holder_instead_of_minting():
    clock = Clock()

    def holder_finishes_after_three_reads(store):
        if store.reads == 3:
            store.record = stored("from-holder", clock.now + 3600)

    store = DictStore(
        {"lease": {"owner": "other-host:1", "until": clock.now + 30}},
        on_read=holder_finishes_after_three_reads,
    )
    mint = Minter(clock)
    assert cache(store, clock).get(mint).access_token == "from-holder"
    assert mint.calls == 0
    assert store.writes == []  # never competed for the lease
    assert clock.slept == [TokenCache.poll_seconds] * 2


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
    throttle_lease = [w["lease"] for w in store.writes if w.get("lease")][1]
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


def test_failed_mint_releases_the_lease_and_raises():
    clock, store = Clock(), DictStore()
    mint = Minter(clock, [ZohoAuthError("revoked", code="invalid_code")])
    with pytest.raises(ZohoAuthError):
        cache(store, clock).get(mint)
    assert store.record["lease"] is None


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
        assert store.read() == {}
        store.write({"access_token": "t", "lease": None})
        assert store.read() == {"access_token": "t", "lease": None}
        assert json.loads(variables.store["zoho_oauth_token__x"]) == {"access_token": "t", "lease": None}

    @pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"text"'], ids=["garbage", "list", "string"])
    def test_unreadable_value_counts_as_empty(self, variables, raw):
        variables.store["k"] = raw
        assert VariableStore("k").read() == {}
