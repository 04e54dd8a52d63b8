"""
Fault injection rules: make the sandbox misbehave on purpose, precisely and repeatably.

A rule matches requests whose path starts with ``path`` (and, if set, whose ``offset`` parameter equals
``offset``); it lets the first ``after`` matching requests through, then fires ``times`` times (``None``:
forever). Every rule counts every request it matches, independently of the other rules; when several rules
are due on the same request, the first one added fires.

Kinds: ``status`` (answer ``status`` with an optional ``Retry-After`` and body), ``reset`` (close the TCP
connection with an RST and no answer), ``delay`` (sleep ``seconds``, then answer normally), ``malformed``
(HTTP 200 with a truncated, non-JSON body), ``unauthorized`` (401 ``INVALID_OAUTHTOKEN`` and the presented
access token is revoked; on Desk paths Desk's ``INVALID_OAUTH``), ``throttle`` (the token endpoint's
``Access Denied`` answer whatever the count), and for Zoho Desk (``/api/v1``, where ``offset`` matches the
``from`` parameter): ``threshold_exceeded`` (HTTP 429 ``THRESHOLD_EXCEEDED``: the portal's daily API
credits are spent) and ``too_many_requests`` (HTTP 429 ``TOO_MANY_REQUESTS``: the concurrency cap, no
``Retry-After`` unless the rule sets one). A ``status`` rule on a Desk path answers Desk's
``{"errorCode", "message"}`` body.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

KINDS = (
    "status",
    "reset",
    "delay",
    "malformed",
    "unauthorized",
    "throttle",
    "threshold_exceeded",
    "too_many_requests",
)
#: Kinds that are Zoho Desk answers, on Desk paths by default.
DESK_KINDS = ("threshold_exceeded", "too_many_requests")
#: The longest ``delay`` a rule may ask for: longer sleeps only pin a server thread (and a test) for nothing.
MAX_DELAY_SECONDS = 300.0
#: The largest ``Retry-After`` a rule may send (a day): enough to test any client's cap on it.
MAX_RETRY_AFTER_SECONDS = 86_400.0
API_PREFIX = "/cx/api/v1"
DESK_PREFIX = "/api/v1"
TOKEN_PATH = "/oauth/v2/token"
_FIELDS = ("kind", "path", "offset", "after", "times", "status", "retry_after", "body", "seconds")
_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "INVALID_OAUTHTOKEN",
    403: "UNAUTHORIZED_ACCESS",
    404: "URL_NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


_DESK_STATUS_CODES = {
    **_STATUS_CODES,
    401: "INVALID_OAUTH",
    403: "FORBIDDEN",
    422: "UNPROCESSABLE_ENTITY",
    502: "INTERNAL_SERVER_ERROR",
    503: "INTERNAL_SERVER_ERROR",
    504: "INTERNAL_SERVER_ERROR",
}


class FaultRuleError(ValueError):
    """A fault rule that cannot be understood."""


@dataclass
class FaultRule:
    """
    One fault injection rule.

    :param kind: ``status``, ``reset``, ``delay``, ``malformed``, ``unauthorized`` or ``throttle``.
    :param path: path prefix to match (default ``/cx/api/v1``; ``/oauth/v2/token`` for ``throttle``).
    :param offset: only requests whose ``offset`` query parameter equals this (a missing one counts as 0).
    :param after: let the first ``after`` matching requests through.
    :param times: how many times to fire; ``None`` fires forever.
    :param status: HTTP status for ``status`` (default 500).
    :param retry_after: seconds for a ``Retry-After`` header (``status`` and ``throttle``).
    :param body: JSON body for ``status`` (default: a Zoho-style error body for the status).
    :param seconds: sleep for ``delay``.
    :param id: assigned by the sandbox.
    :param seen: matching requests so far.
    :param fired: times fired so far.
    """

    kind: str
    path: str = API_PREFIX
    offset: int | None = None
    after: int = 0
    times: int | None = 1
    status: int = 500
    retry_after: float | None = None
    body: Any = None
    seconds: float = 0.0
    id: int = 0
    seen: int = 0
    fired: int = 0

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FaultRule:
        """Build and validate a rule from its JSON form; unknown fields are an error (typos fail loudly)."""
        if not isinstance(raw, dict):
            raise FaultRuleError("a fault rule is a JSON object")
        unknown = sorted(set(raw) - set(_FIELDS))
        if unknown:
            raise FaultRuleError(f"unknown fault rule field(s): {', '.join(unknown)}")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise FaultRuleError(f"kind must be one of {', '.join(KINDS)}")
        default_path = TOKEN_PATH if kind == "throttle" else DESK_PREFIX if kind in DESK_KINDS else API_PREFIX
        times = raw.get("times", 1)
        rule = cls(
            kind=kind,
            path=str(raw.get("path") or default_path),
            offset=None if raw.get("offset") is None else _integer(raw["offset"], "offset"),
            after=_integer(raw.get("after") or 0, "after"),
            times=None if times is None else _integer(times, "times"),
            status=_integer(raw.get("status") or 500, "status"),
            retry_after=None
            if raw.get("retry_after") is None
            else _seconds(raw["retry_after"], "retry_after", MAX_RETRY_AFTER_SECONDS),
            body=raw.get("body"),
            seconds=_seconds(raw.get("seconds") or 0.0, "seconds", MAX_DELAY_SECONDS),
        )
        if not rule.path.startswith("/"):
            raise FaultRuleError("path must start with /")
        if not 100 <= rule.status <= 599:
            raise FaultRuleError("status must be an HTTP status code")
        return rule

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def error_body(self, desk: bool = False) -> Any:
        """The body of a ``status`` answer (Desk's ``{"errorCode", "message"}`` shape on Desk paths)."""
        if self.body is not None:
            return self.body
        code = (_DESK_STATUS_CODES if desk else _STATUS_CODES).get(self.status, f"HTTP_{self.status}")
        message = f"injected fault: HTTP {self.status}"
        if desk:
            return {"errorCode": code, "message": message}
        return {"status": "failure", "error": {"code": code, "message": message}}

    def matches(self, path: str, offset: str | None) -> bool:
        if not path.startswith(self.path):
            return False
        if self.offset is None:
            return True
        raw = (offset or "0").strip()
        return raw.lstrip("-").isdigit() and int(raw) == self.offset


def _integer(value: Any, name: str) -> int:
    """A whole number from 0 up (an int or a string of digits); else a :class:`FaultRuleError`."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise FaultRuleError(f"{name} must be a whole number from 0 up, not {value!r}")


def _seconds(value: Any, name: str, cap: float) -> float:
    """A finite number of seconds from 0 to ``cap``; anything else is a :class:`FaultRuleError`."""
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 <= seconds <= cap:  # also refuses NaN
        raise FaultRuleError(f"{name} must be a number of seconds from 0 to {cap:g}, not {value!r}")
    return seconds


class FaultInjector:
    """Thread-safe list of fault rules, consulted once per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self.fired = 0
        self.fired_by_kind: dict[str, int] = {}

    def add(self, rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Validate and append rules (all or none); returns them with their ids."""
        parsed = [FaultRule.from_dict(raw) for raw in rules]
        with self._lock:
            for rule in parsed:
                rule.id = self._next_id
                self._next_id += 1
                self._rules.append(rule)
            return [rule.to_dict() for rule in parsed]

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def reset(self) -> None:
        with self._lock:
            self._rules.clear()
            self.fired = 0
            self.fired_by_kind = {}

    def match(self, path: str, offset: str | None) -> FaultRule | None:
        """
        Count this request against every rule and return a copy of the rule that fires, if any.

        :param path: request path (no query string).
        :param offset: the request's ``offset`` query parameter, if any.
        """
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(path, offset):
                    continue
                rule.seen += 1
                if chosen is None and rule.seen > rule.after and not rule.exhausted:
                    rule.fired += 1
                    chosen = FaultRule(**rule.to_dict())
            if chosen is not None:
                self.fired += 1
                self.fired_by_kind[chosen.kind] = self.fired_by_kind.get(chosen.kind, 0) + 1
        return chosen

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "faults_fired": self.fired,
                "faults_by_kind": dict(self.fired_by_kind),
                "faults_active": sum(not rule.exhausted for rule in self._rules),
            }
