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

Anybody can write the Variable, so its value is untrusted: :func:`parse_record` turns any value into a
validated :class:`CacheRecord` (a token or none, a lease or none) and never raises. Whatever does not
validate counts as "no usable token" or "no lease".

A token is used while more than the margin in force of its life remains: ``token_margin_seconds``, but at
most half the token's life (``expires_at - refreshed_at``), so a token that Zoho grants for less than the
margin is still shared instead of being minted again on every call. A token just minted is returned to
the call that minted it.

Variables have no compare-and-set, so the single flight across processes is a lease: a process that finds
no usable token writes ``lease = {"owner", "until"}``, waits a settle delay longer than a Variable round
trip, re-reads, and mints only if the lease it reads back is still its own. While it mints (or backs off
after a throttled mint) a :class:`LeaseKeeper` thread renews the lease, so a slow token endpoint never lets
a second process mint. Every other process polls the Variable until the token appears or the lease lapses;
it honours one lease for at most ``lease_seconds`` after first seeing it (:class:`LeaseWatch`), so a lease
left by a crashed holder or a corrupt value delays it by one lease period at most. N simultaneous cold
processes cause one mint; two only if a write lands more than the settle delay after its read.

Reads go around Airflow's secrets cache (``[secrets] use_cache``), which would otherwise hide other
processes' writes from the polling for the cache's TTL.

Outside a running task on Airflow 3 ``Variable.set`` does not exist, so the cache falls back to the
in-process memo and says so once in the log.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_zoho.exceptions import ZohoRateLimitError
from airflow_provider_zoho.leases import Lease, LeaseWatch, finite_number, new_owner

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

log = logging.getLogger(__name__)

VARIABLE_PREFIX = "zoho_oauth_token__"
#: What an access token may look like: visible ASCII, no spaces (it goes into an HTTP header).
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]{1,4096}")


def variable_key(conn_id: str) -> str:
    """Return the name of the Airflow Variable that caches the access token of ``conn_id``."""
    return f"{VARIABLE_PREFIX}{conn_id}"


def is_token_text(value: Any) -> bool:
    """Whether ``value`` can be an access token: a non-empty string of visible ASCII characters."""
    return isinstance(value, str) and _TOKEN_TEXT.fullmatch(value) is not None


def mask(secret: str | None) -> None:
    """
    Register ``secret`` with Airflow's secret masker, so it shows as ``***`` in task logs.

    :param secret: a token, client secret or refresh token (nothing happens for an empty one).
    """
    if secret:
        from airflow.providers.common.compat.sdk import mask_secret

        mask_secret(secret)


@dataclass(frozen=True)
class AccessToken:
    """
    An access token and what the cache needs to know about it.

    :param access_token: the token itself (secret).
    :param expires_at: expiry, epoch seconds.
    :param api_domain: the Zoho API domain the token endpoint returned, if any.
    :param refreshed_at: when the token was minted, epoch seconds (0 when unknown).
    """

    access_token: str
    expires_at: float
    api_domain: str | None = None
    refreshed_at: float = 0.0

    def margin_in_force(self, margin_seconds: float) -> float:
        """The refresh margin this token is held to: ``margin_seconds``, at most half the token's life."""
        return min(margin_seconds, max(0.0, self.expires_at - self.refreshed_at) / 2)

    def usable(self, margin_seconds: float, now: float) -> bool:
        """Whether more than the margin in force (see :meth:`margin_in_force`) of life remains at ``now``."""
        return self.expires_at - self.margin_in_force(margin_seconds) > now

    def __repr__(self) -> str:
        # Never show the token itself, whatever prints this object.
        return f"AccessToken(expires_at={self.expires_at:.0f}, api_domain={self.api_domain!r})"


@dataclass(frozen=True)
class CacheRecord:
    """
    The validated value of a token-cache Variable.

    :param token: the cached token, or ``None`` (none cached, or the value did not hold a valid one).
    :param lease: the minting lease, or ``None``.
    :param problems: ``(field, what was wrong)`` for each part of the value that was ignored, for display.
    """

    token: AccessToken | None = None
    lease: Lease | None = None
    problems: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON form stored in the Variable (what :func:`parse_record` reads back)."""
        token = self.token
        return {
            "access_token": token.access_token if token else None,
            "expires_at": token.expires_at if token else 0,
            "api_domain": token.api_domain if token else None,
            "refreshed_at": token.refreshed_at if token else 0,
            "lease": self.lease.to_json() if self.lease else None,
        }


def parse_record(raw: Any) -> CacheRecord:
    """
    Turn any value of the token-cache Variable into a validated record; never raises.

    :param raw: the Variable's value as Airflow returns it (JSON text, usually), or ``None`` when absent.
    :return: the record. A token needs ``access_token`` (visible ASCII) and a finite ``expires_at``; a lease
        is ``{"owner": <text>, "until": <finite number>}`` (:meth:`Lease.parse`). ``refreshed_at`` outside
        ``[0, expires_at]`` counts as unknown (0), an ``api_domain`` that is not text as none.
    """
    if isinstance(raw, (str, bytes, bytearray)):
        if not raw.strip():
            return CacheRecord()
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return CacheRecord(problems=(("value", "is not JSON"),))
    if raw is None:
        return CacheRecord()
    if not isinstance(raw, dict):
        return CacheRecord(problems=(("value", "is not a JSON object"),))
    problems: list[tuple[str, str]] = []
    token = _parse_token(raw, problems)
    lease = Lease.parse(raw.get("lease"))
    if lease is None and raw.get("lease") is not None:
        problems.append(("lease", 'is not {"owner": <text>, "until": <finite number>}'))
    return CacheRecord(token, lease, tuple(problems))


def _parse_token(raw: dict[str, Any], problems: list[tuple[str, str]]) -> AccessToken | None:
    access_token = raw.get("access_token")
    if access_token is None:
        return None  # never stored, or dropped after Zoho rejected it
    if not is_token_text(access_token):
        problems.append(("access_token", "is not a token (visible ASCII text)"))
        return None
    expires_at = finite_number(raw.get("expires_at"))
    if expires_at is None:
        problems.append(("expires_at", "is not a finite number of epoch seconds"))
        return None
    refreshed_at = finite_number(raw.get("refreshed_at"))
    if refreshed_at is None or not 0 <= refreshed_at <= expires_at:
        if raw.get("refreshed_at") not in (None, 0):
            problems.append(("refreshed_at", "is not a time between 0 and expires_at"))
        refreshed_at = 0.0
    api_domain = raw.get("api_domain")
    if api_domain is not None and not isinstance(api_domain, str):
        problems.append(("api_domain", "is not text"))
        api_domain = None
    return AccessToken(access_token, expires_at, api_domain, refreshed_at)


class TokenStore(Protocol):
    """Where the shared copy of the cache lives (the Airflow Variable; a dict in tests)."""

    def read(self) -> CacheRecord: ...

    def write(self, record: CacheRecord) -> None: ...


class VariableStore:
    """
    Read and write one token-cache Variable through Airflow's ``Variable`` API.

    :param key: the Variable key.
    """

    description = "Zoho access-token cache managed by airflow-provider-zoho (safe to delete)."

    def __init__(self, key: str) -> None:
        self.key = key

    def read(self) -> CacheRecord:
        """The current value, read around Airflow's secrets cache, validated by :func:`parse_record`."""
        from airflow.providers.common.compat.sdk import Variable

        forget_cached_variable(self.key)
        try:
            # Positional default: Airflow 2.11 names the argument default_var, Airflow 3 default.
            raw = Variable.get(self.key, None)
        except KeyError:  # Airflow 2 raises KeyError for a missing key even with some backends
            raw = None
        return parse_record(raw)

    def write(self, record: CacheRecord) -> None:
        """Replace the value with ``record``."""
        from airflow.providers.common.compat.sdk import Variable

        Variable.set(self.key, json.dumps(record.to_json(), sort_keys=True), description=self.description)


def forget_cached_variable(key: str) -> None:
    """
    Drop ``key`` from Airflow's secrets cache (``[secrets] use_cache``), so the next read sees the store.

    A no-op when the cache is off (it is only initialized where Airflow calls ``SecretCache.init()``).

    :param key: the Variable key.
    """
    from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time.cache import SecretCache
    else:
        from airflow.secrets.cache import SecretCache  # type: ignore[no-redef]
    SecretCache.invalidate_variable(key)


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


class LeaseKeeper:
    """
    Keep a lease alive from a background thread while its holder is busy (minting, or backing off).

    Every third of ``lease_seconds`` the thread re-reads the store and, while the lease there is still
    ``owner``'s, writes it back with a new ``until``. Use it as a context manager around the slow work:
    leaving stops and joins the thread, so nothing it writes can land after the holder's next write.
    Writing a Variable from a second thread is safe: Airflow 3's supervisor channel holds a lock for a
    whole request and answer, and Airflow 2 uses a database session per thread.

    :param store: the shared store.
    :param owner: the lease holder's id.
    :param lease_seconds: how long each renewal lasts.
    :param clock: the time, epoch seconds.
    """

    def __init__(
        self, store: TokenStore, owner: str, lease_seconds: float, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.clock = clock
        #: How many times the lease was renewed.
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zoho-lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                record = self.store.read()
                if record.lease is None or record.lease.owner != self.owner:
                    return  # released or taken over: there is nothing of ours to keep alive
                self.store.write(
                    CacheRecord(record.token, Lease(self.owner, self.clock() + self.lease_seconds))
                )
                self.renewals += 1
            except Exception as error:  # a failed renewal must not kill the mint; try again next time
                log.warning("Could not renew the Zoho token lease (%s); trying again.", type(error).__name__)


class TokenCache:
    """
    Memo, shared Variable and single-flight lease for the access tokens of one connection.

    :param conn_id: the Airflow connection id the tokens belong to.
    :param margin_seconds: a token is used only while more than this many seconds of life remain (at most
        half its life, see :meth:`AccessToken.margin_in_force`).
    :param store: where the shared copy lives; ``None`` picks the Airflow Variable when this process
        may write Variables, and the in-process memo alone otherwise.
    :param clock: the time, epoch seconds (tests pass a virtual clock).
    :param sleep: how to wait (tests pass one that advances the virtual clock).
    :param max_wait_seconds: give up waiting for a token after this long (default: the class attribute).
    """

    #: How long a lease lasts unless renewed, and the longest anyone honours one lease it saw.
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
        store: TokenStore | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        max_wait_seconds: float | None = None,
    ) -> None:
        self.conn_id = conn_id
        self.margin_seconds = margin_seconds
        if max_wait_seconds is not None:
            self.max_wait_seconds = max_wait_seconds
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
                record = self._read(store)
                if record.token is not None and record.token.access_token == access_token:
                    store.write(CacheRecord(None, record.lease))
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

    def _shared_store(self) -> TokenStore | None:
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

    def _get_shared(self, store: TokenStore, mint: Callable[[], AccessToken]) -> AccessToken:
        owner = new_owner()
        watch = LeaseWatch(self.lease_seconds)
        deadline = self._clock() + self.max_wait_seconds
        backoff = self.throttle_backoff_seconds[0]
        waiting_logged = False
        while True:
            record = self._read(store)
            if (token := self._usable(record)) is not None:
                return token
            now = self._clock()
            if now > deadline:
                raise self._gave_up()
            lease = record.lease
            if lease is not None and lease.owner != owner and watch.honoured(lease, now):
                if not waiting_logged:
                    log.info("Waiting for %r to refresh the Zoho access token.", lease.owner[:100])
                    waiting_logged = True
                self._sleep(self.poll_seconds)
                continue

            # Claim the lease, and mint only if it is still ours once every concurrent claim has landed.
            self._write_lease(store, record, owner)
            self._sleep(self.settle_seconds)
            record = self._read(store)
            if (token := self._usable(record)) is not None:
                return token
            if record.lease is None or record.lease.owner != owner:
                continue  # another process won the lease: wait for its token

            try:
                with self._keeper(store, owner):
                    token = mint()
            except ZohoRateLimitError as error:
                # Keep the lease through the back-off: nobody asks Zoho again before it ends.
                until = self._clock() + backoff
                self._write_lease(store, record, owner)
                log.warning(
                    "Zoho throttled token creation for connection %r; nobody will ask again for %.0f s.",
                    self.conn_id,
                    backoff,
                )
                if until > deadline:
                    raise self._gave_up() from error
                with self._keeper(store, owner):
                    self._wait_for_token(store, until)
                backoff = min(backoff * 2, self.throttle_backoff_seconds[1])
                continue
            except BaseException:
                store.write(CacheRecord(record.token, None))  # let the next process try at once
                raise
            store.write(CacheRecord(token, None))
            return token

    def _keeper(self, store: TokenStore, owner: str) -> LeaseKeeper:
        return LeaseKeeper(store, owner, self.lease_seconds, self._clock)

    def _write_lease(self, store: TokenStore, record: CacheRecord, owner: str) -> None:
        store.write(CacheRecord(record.token, Lease(owner, self._clock() + self.lease_seconds)))

    def _gave_up(self) -> ZohoRateLimitError:
        return ZohoRateLimitError(
            f"No Zoho access token for connection {self.conn_id!r} within {self.max_wait_seconds:.0f} s: "
            "Zoho throttles token creation (at most 10 per 10 minutes per refresh token). Another system "
            "probably shares this refresh token; give each deployment its own refresh token.",
            code="Access Denied",
        )

    def _wait_for_token(self, store: TokenStore, until: float) -> None:
        while self._clock() < until:
            self._sleep(min(self.poll_seconds * 4, max(until - self._clock(), 0.0)))
            if self._usable(self._read(store)) is not None:
                return

    def _read(self, store: TokenStore) -> CacheRecord:
        record = store.read()
        if record.token is not None:
            mask(record.token.access_token)  # before anything could log it
        return record

    def _usable(self, record: CacheRecord) -> AccessToken | None:
        token = record.token
        return token if token is not None and token.usable(self.margin_seconds, self._clock()) else None
