"""
The access-token cache shared by every task and worker of a deployment.

Zoho lets one refresh token mint at most 10 access tokens per 10 minutes and keeps at most 15 alive
(minting a 16th silently revokes the oldest). A deployment whose parallel tasks each minted their own
token would hit both limits, so a token lives in three places, checked in order:

1. an in-process memo (class level, keyed by connection id, guarded by a lock: threads mint once);
2. the Airflow Variable ``zoho_oauth_token__<conn_id>``, shared by every process and host. Its JSON value is
   ``{"access_token", "expires_at", "api_domain", "refreshed_at", "lease"}``; the word "token" in the key
   makes Airflow mask it, and Fernet encrypts it at rest when a key is configured. The refresh token and
   the client secret are never stored there;
3. a mint at Zoho's token endpoint, done by one process at a time.

Variables have no compare-and-set, so the single flight across processes is a lease: a process that finds
no usable token writes ``lease = {"owner", "until"}``, waits a settle delay longer than a Variable round
trip, re-reads, and mints only if the lease it reads back is still its own. Every other process polls the
Variable until the token appears or the lease expires (then competes for the lease again). N simultaneous
cold processes cause one mint; two only if a write lands more than the settle delay after its read.

A throttled mint keeps the lease for the back-off period, so nobody hammers the token endpoint while Zoho
blocks it; everyone keeps re-reading the Variable meanwhile.

Outside a running task on Airflow 3 ``Variable.set`` does not exist, so the cache falls back to the
in-process memo and says so once in the log.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.exceptions import ZohoRateLimitError

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

VARIABLE_PREFIX = "zoho_oauth_token__"


def variable_key(conn_id: str) -> str:
    """Return the name of the Airflow Variable that caches the access token of ``conn_id``."""
    return f"{VARIABLE_PREFIX}{conn_id}"


@dataclass(frozen=True)
class AccessToken:
    """
    An access token and what the cache needs to know about it.

    :param access_token: the token itself (secret).
    :param expires_at: expiry, epoch seconds.
    :param api_domain: the Zoho API domain the token endpoint returned, if any.
    :param refreshed_at: when the token was minted, epoch seconds.
    """

    access_token: str
    expires_at: float
    api_domain: str | None = None
    refreshed_at: float = 0.0

    def usable(self, margin_seconds: float, now: float) -> bool:
        """Whether more than ``margin_seconds`` of life remain at ``now``."""
        return self.expires_at - margin_seconds > now

    def __repr__(self) -> str:
        # Never show the token itself, whatever prints this object.
        return f"AccessToken(expires_at={self.expires_at:.0f}, api_domain={self.api_domain!r})"


class VariableStore:
    """
    Read and write one token-cache Variable through Airflow's ``Variable`` API.

    :param key: the Variable key.
    """

    description = "Zoho access-token cache managed by airflow-provider-zoho (safe to delete)."

    def __init__(self, key: str) -> None:
        self.key = key

    def read(self) -> dict[str, Any]:
        from airflow.providers.common.compat.sdk import Variable

        try:
            # Positional default: Airflow 2.11 names the argument default_var, Airflow 3 default.
            raw = Variable.get(self.key, None)
        except KeyError:  # Airflow 2 raises KeyError for a missing key even with some backends
            raw = None
        if not raw:
            return {}
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            log.warning("Ignoring the unreadable value of Variable %s; it will be rewritten.", self.key)
            return {}
        return value if isinstance(value, dict) else {}

    def write(self, value: dict[str, Any]) -> None:
        from airflow.providers.common.compat.sdk import Variable

        Variable.set(self.key, json.dumps(value, sort_keys=True), description=self.description)


def shared_store_available() -> bool:
    """
    Whether Airflow Variables can be written from this process.

    Airflow 3 only allows ``Variable.set`` inside a running task (or trigger), where the task runner has
    its supervisor channel; Airflow 2 writes Variables straight to the metadata database, which a process
    without one (a CLI run with only ``AIRFLOW_CONN_*`` settings) cannot reach.
    """
    from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

    if not AIRFLOW_V_3_0_PLUS:
        return _metadata_db_reachable()
    from airflow.sdk.execution_time import task_runner

    return getattr(task_runner, "SUPERVISOR_COMMS", None) is not None


@functools.cache
def _metadata_db_reachable() -> bool:
    from airflow.providers.common.compat.sdk import Variable

    try:
        Variable.get(variable_key("__probe__"), None)
    except Exception as error:
        log.warning("Cannot read Airflow Variables here (%s).", type(error).__name__)
        return False
    return True


def _mask(token: str) -> None:
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(token)


class TokenCache:
    """
    Memo, shared Variable and single-flight lease for the access tokens of one connection.

    :param conn_id: the Airflow connection id the tokens belong to.
    :param margin_seconds: a token is used only while more than this many seconds of life remain.
    :param store: where the shared copy lives; ``None`` picks the Airflow Variable when this process
        may write Variables, and the in-process memo alone otherwise.
    """

    #: How long a lease holder may take to mint before others may take over.
    lease_seconds: float = 30.0
    #: Wait after writing a lease before reading it back; must exceed a Variable round trip.
    settle_seconds: float = 1.0
    #: How often waiting processes re-read the Variable.
    poll_seconds: float = 0.5
    #: Back-off after a throttled mint: doubles from the first value up to the last.
    throttle_backoff_seconds: tuple[float, float] = (30.0, 120.0)
    #: Give up waiting for a token after this long (Zoho blocks a throttled refresh token for 10 minutes).
    max_wait_seconds: float = 660.0

    _memo: dict[str, AccessToken] = {}
    _locks: dict[str, threading.Lock] = {}
    _locks_guard = threading.Lock()
    _fallback_logged: set[str] = set()

    def __init__(
        self,
        conn_id: str,
        margin_seconds: float,
        store: VariableStore | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.conn_id = conn_id
        self.margin_seconds = margin_seconds
        self._store = store
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep

    # -- public ------------------------------------------------------------------------------------------

    def get(self, mint: Callable[[], AccessToken]) -> AccessToken:
        """
        Return a usable token: from the memo, else the shared Variable, else ``mint()`` (one at a time).

        :param mint: obtains a new token from Zoho; may raise ``ZohoRateLimitError`` when throttled.
        """
        with self._lock():
            token = self._memo.get(self.conn_id)
            if token is not None and token.usable(self.margin_seconds, self._clock()):
                return token
            store = self._shared_store()
            if store is None:
                token = self._mint_locally(mint)
            else:
                token = self._get_shared(store, mint)
            self._memo[self.conn_id] = token
            return token

    def invalidate(self, access_token: str) -> bool:
        """
        Forget ``access_token`` if it is still the cached one (memo and Variable).

        :return: whether anything was forgotten.
        """
        with self._lock():
            dropped = False
            memo = self._memo.get(self.conn_id)
            if memo is not None and memo.access_token == access_token:
                del self._memo[self.conn_id]
                dropped = True
            store = self._shared_store()
            if store is not None:
                record = store.read()
                if record.get("access_token") == access_token:
                    store.write({**record, "access_token": None, "expires_at": 0})
                    dropped = True
            return dropped

    @classmethod
    def clear_memo(cls) -> None:
        """Forget every token memoized in this process (tests, and after rotating credentials)."""
        cls._memo.clear()

    # -- internals -----------------------------------------------------------------------------------------

    def _lock(self) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(self.conn_id, threading.Lock())

    def _shared_store(self) -> VariableStore | None:
        if self._store is not None:
            return self._store
        if shared_store_available():
            return VariableStore(variable_key(self.conn_id))
        if self.conn_id not in self._fallback_logged:
            self._fallback_logged.add(self.conn_id)
            log.warning(
                "Not inside a running Airflow task, so Variables cannot be written here: the Zoho access "
                "token of connection %r is cached in this process only. Each such process mints its own "
                "token (Zoho allows 10 per 10 minutes per refresh token).",
                self.conn_id,
            )
        return None

    def _mint_locally(self, mint: Callable[[], AccessToken]) -> AccessToken:
        deadline = self._clock() + self.max_wait_seconds
        backoff = self.throttle_backoff_seconds[0]
        while True:
            try:
                return mint()
            except ZohoRateLimitError as error:
                if self._clock() + backoff > deadline:
                    raise self._gave_up() from error
                log.warning("Zoho throttled token creation; waiting %.0f s before asking again.", backoff)
                self._sleep(backoff)
                backoff = min(backoff * 2, self.throttle_backoff_seconds[1])

    def _get_shared(self, store: VariableStore, mint: Callable[[], AccessToken]) -> AccessToken:
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        deadline = self._clock() + self.max_wait_seconds
        backoff = self.throttle_backoff_seconds[0]
        waited_logged = False
        while True:
            record = store.read()
            token = self._usable_token(record)
            if token is not None:
                return token
            now = self._clock()
            if now > deadline:
                raise self._gave_up()
            lease = record.get("lease") or {}
            if lease.get("until", 0) > now and lease.get("owner") != owner:
                if not waited_logged:
                    log.info("Waiting for %s to refresh the Zoho access token.", lease.get("owner"))
                    waited_logged = True
                self._sleep(self.poll_seconds)
                continue

            store.write({**record, "lease": {"owner": owner, "until": now + self.lease_seconds}})
            self._sleep(self.settle_seconds)
            record = store.read()
            token = self._usable_token(record)
            if token is not None:
                return token
            if (record.get("lease") or {}).get("owner") != owner:
                continue  # another process won the lease: wait for its token

            try:
                token = mint()
            except ZohoRateLimitError as error:
                # Keep the lease through the back-off: nobody asks Zoho again before it ends.
                until = self._clock() + backoff
                store.write({**record, "lease": {"owner": owner, "until": until}})
                log.warning(
                    "Zoho throttled token creation for connection %r; nobody will ask again for %.0f s.",
                    self.conn_id,
                    backoff,
                )
                if until > deadline:
                    raise self._gave_up() from error
                self._wait_for_token(store, until)
                backoff = min(backoff * 2, self.throttle_backoff_seconds[1])
                continue
            except BaseException:
                store.write({**record, "lease": None})  # let the next process try at once
                raise
            store.write(
                {
                    "access_token": token.access_token,
                    "expires_at": token.expires_at,
                    "api_domain": token.api_domain,
                    "refreshed_at": token.refreshed_at,
                    "lease": None,
                }
            )
            return token

    def _gave_up(self) -> ZohoRateLimitError:
        return ZohoRateLimitError(
            f"No Zoho access token for connection {self.conn_id!r} within {self.max_wait_seconds:.0f} s: "
            "Zoho throttles token creation (at most 10 per 10 minutes per refresh token). Another system "
            "probably shares this refresh token; give each deployment its own refresh token.",
            code="Access Denied",
        )

    def _wait_for_token(self, store: VariableStore, until: float) -> None:
        while self._clock() < until:
            self._sleep(min(self.poll_seconds * 4, max(until - self._clock(), 0.0)))
            if self._usable_token(store.read()) is not None:
                return

    def _usable_token(self, record: dict[str, Any]) -> AccessToken | None:
        access_token = record.get("access_token")
        if not access_token:
            return None
        try:
            token = AccessToken(
                access_token=access_token,
                expires_at=float(record.get("expires_at") or 0),
                api_domain=record.get("api_domain"),
                refreshed_at=float(record.get("refreshed_at") or 0),
            )
        except (TypeError, ValueError):
            return None
        _mask(access_token)
        return token if token.usable(self.margin_seconds, self._clock()) else None
