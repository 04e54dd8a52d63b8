"""
Zoho Accounts' OAuth token rules, as the sandbox enforces them.

- ``grant_type=refresh_token`` mints access tokens; at most ``mint_limit`` successful mints per refresh
  token in any sliding ``mint_window`` seconds, beyond which the real ``Access Denied`` body comes back;
- at most ``max_live_tokens`` live access tokens per refresh token (one more revokes the oldest);
- ``grant_type=authorization_code`` exchanges a single-use grant code (Self Client style) for a new
  refresh token; at most ``max_refresh_tokens`` refresh tokens per client (one more evicts the oldest);
- errors come back at HTTP 200 (``invalid_client``, ``invalid_code``, ``invalid_request``), as Zoho does.

Tokens are random (``secrets``), never derived from the seed. Thread-safe: one lock guards all state.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

API_DOMAIN = "https://www.zohoapis.com"
THROTTLE_BODY: dict[str, str] = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}


def new_token() -> str:
    """``1000.<32 hex>.<32 hex>``, the shape of Zoho tokens and grant codes."""
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


@dataclass
class _RefreshToken:
    client_id: str
    scope: str
    label: str
    created: float
    mints: deque[float] = field(default_factory=deque)
    access_tokens: OrderedDict[str, float] = field(default_factory=OrderedDict)


@dataclass
class _GrantCode:
    client_id: str
    scope: str
    expires_at: float


@dataclass(frozen=True)
class TokenAnswer:
    """
    What the token endpoint answers.

    :param status: HTTP status.
    :param body: JSON body.
    """

    status: int
    body: dict[str, Any]


class TokenAuthority:
    """
    The token registry of a fake Zoho Accounts server.

    :param client_id: the one registered client.
    :param client_secret: its secret.
    :param refresh_token: a refresh token registered at start (and again after :meth:`reset`).
    :param token_ttl: access token lifetime in seconds.
    :param mint_limit: successful mints allowed per refresh token in any ``mint_window``.
    :param mint_window: length of the sliding throttle window in seconds.
    :param max_live_tokens: live access tokens kept per refresh token.
    :param throttle_status: HTTP status of the throttle answer (Zoho has been seen to use 200 and 400).
    :param legacy_expiry: answer ``expires_in`` in milliseconds plus ``expires_in_sec`` (older Zoho format).
    :param grant_code_ttl: lifetime of grant codes in seconds.
    :param max_refresh_tokens: refresh tokens kept per client.
    :param scope: scope of the configured refresh token.
    :param clock: monotonic clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        token_ttl: float = 3600,
        mint_limit: int = 10,
        mint_window: float = 600,
        max_live_tokens: int = 15,
        throttle_status: int = 400,
        legacy_expiry: bool = False,
        grant_code_ttl: float = 180,
        max_refresh_tokens: int = 20,
        scope: str = "JProxy.jmobileapi.ALL",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.configured_refresh_token = refresh_token
        self.token_ttl = token_ttl
        self.mint_limit = mint_limit
        self.mint_window = mint_window
        self.max_live_tokens = max_live_tokens
        self.throttle_status = throttle_status
        self.legacy_expiry = legacy_expiry
        self.grant_code_ttl = grant_code_ttl
        self.max_refresh_tokens = max_refresh_tokens
        self.scope = scope
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every token, code and counter; the configured refresh token is valid again."""
        with self._lock:
            self._refresh: OrderedDict[str, _RefreshToken] = OrderedDict()
            self._access: dict[str, str] = {}
            self._codes: dict[str, _GrantCode] = {}
            self._issued = 0
            self.counters: dict[str, Any] = {
                "mints": 0,
                "mints_by_refresh_token": {},
                "throttled": 0,
                "token_errors": {},
                "revocations": 0,
                "grant_codes_issued": 0,
                "refresh_tokens_issued": 0,
                "refresh_tokens_evicted": 0,
                "access_tokens_evicted": 0,
            }
            self._register_refresh(self.configured_refresh_token, self.client_id, self.scope, "configured")

    # ------------------------------------------------------------------ internals (lock held)
    def _register_refresh(self, token: str, client_id: str, scope: str, label: str) -> None:
        self._refresh[token] = _RefreshToken(client_id, scope, label, self.clock())
        owned = [t for t, state in self._refresh.items() if state.client_id == client_id]
        while len(owned) > self.max_refresh_tokens:
            self._drop_refresh(owned.pop(0))
            self.counters["refresh_tokens_evicted"] += 1

    def _drop_refresh(self, token: str) -> None:
        state = self._refresh.pop(token)
        for access in state.access_tokens:
            self._access.pop(access, None)

    def _prune(self, state: _RefreshToken, now: float) -> None:
        while state.mints and state.mints[0] <= now - self.mint_window:
            state.mints.popleft()
        expired = [t for t, expires in state.access_tokens.items() if expires <= now]
        for token in expired:
            del state.access_tokens[token]
            self._access.pop(token, None)

    def _error(self, error: str) -> TokenAnswer:
        errors = self.counters["token_errors"]
        errors[error] = errors.get(error, 0) + 1
        return TokenAnswer(200, {"error": error})

    def _throttled(self) -> TokenAnswer:
        self.counters["throttled"] += 1
        return TokenAnswer(self.throttle_status, dict(THROTTLE_BODY))

    def _mint(self, refresh_token: str, state: _RefreshToken, now: float) -> dict[str, Any]:
        token = new_token()
        state.mints.append(now)
        state.access_tokens[token] = now + self.token_ttl
        self._access[token] = refresh_token
        while len(state.access_tokens) > self.max_live_tokens:
            oldest, _ = state.access_tokens.popitem(last=False)
            self._access.pop(oldest, None)
            self.counters["access_tokens_evicted"] += 1
        self.counters["mints"] += 1
        by_token = self.counters["mints_by_refresh_token"]
        by_token[state.label] = by_token.get(state.label, 0) + 1
        body: dict[str, Any] = {"access_token": token}
        if self.legacy_expiry:
            body.update(
                expires_in_sec=int(self.token_ttl),
                api_domain=API_DOMAIN,
                token_type="Bearer",
                expires_in=int(self.token_ttl * 1000),
            )
        else:
            body.update(api_domain=API_DOMAIN, token_type="Bearer", expires_in=int(self.token_ttl))
        return body

    # ------------------------------------------------------------------ endpoints
    def token(self, params: Mapping[str, str]) -> TokenAnswer:
        """
        Answer ``POST /oauth/v2/token``.

        :param params: form body and query string parameters, merged.
        """
        grant_type = params.get("grant_type")
        with self._lock:
            if grant_type == "refresh_token":
                return self._refresh_grant(params)
            if grant_type == "authorization_code":
                return self._code_grant(params)
            if not grant_type:
                return self._error("invalid_request")
            return self._error("unsupported_grant_type")

    def _check_client(self, params: Mapping[str, str]) -> TokenAnswer | None:
        if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
            return self._error("invalid_client")
        return None

    def _refresh_grant(self, params: Mapping[str, str]) -> TokenAnswer:
        if not all(params.get(name) for name in ("client_id", "client_secret", "refresh_token")):
            return self._error("invalid_request")
        rejected = self._check_client(params)
        if rejected is not None:
            return rejected
        refresh_token = params["refresh_token"]
        state = self._refresh.get(refresh_token)
        if state is None or state.client_id != params["client_id"]:
            return self._error("invalid_code")
        now = self.clock()
        self._prune(state, now)
        if len(state.mints) >= self.mint_limit:
            return self._throttled()
        return TokenAnswer(200, self._mint(refresh_token, state, now))

    def _code_grant(self, params: Mapping[str, str]) -> TokenAnswer:
        if not all(params.get(name) for name in ("client_id", "client_secret", "code")):
            return self._error("invalid_request")
        rejected = self._check_client(params)
        if rejected is not None:
            return rejected
        now = self.clock()
        grant = self._codes.pop(params["code"], None)
        if grant is None or grant.expires_at <= now or grant.client_id != params["client_id"]:
            return self._error("invalid_code")
        refresh_token = new_token()
        self._issued += 1
        self.counters["refresh_tokens_issued"] += 1
        self._register_refresh(refresh_token, grant.client_id, grant.scope, f"issued-{self._issued}")
        body = self._mint(refresh_token, self._refresh[refresh_token], now)
        return TokenAnswer(
            200, {"access_token": body.pop("access_token"), "refresh_token": refresh_token, **body}
        )

    def throttle_answer(self) -> TokenAnswer:
        """The throttle answer, counted as throttled (the ``throttle`` fault)."""
        with self._lock:
            return self._throttled()

    def revoke(self, token: str | None) -> TokenAnswer:
        """
        Answer ``POST /oauth/v2/token/revoke?token=...``.

        Revokes a refresh token with all its access tokens, or one access token.
        """
        with self._lock:
            if token and token in self._refresh:
                self._drop_refresh(token)
            elif token and token in self._access:
                self._revoke_access(token)
            else:
                return TokenAnswer(400, {"status": "failure", "error": "invalid_token"})
            self.counters["revocations"] += 1
            return TokenAnswer(200, {"status": "success"})

    def _revoke_access(self, token: str) -> bool:
        owner = self._access.pop(token, None)
        if owner is None:
            return False
        state = self._refresh.get(owner)
        if state is not None:
            state.access_tokens.pop(token, None)
        return True

    def revoke_access_token(self, token: str) -> bool:
        """Revoke one access token (the ``unauthorized`` fault); ``False`` when it was not live."""
        with self._lock:
            return self._revoke_access(token)

    def issue_grant_code(self, scope: str | None = None, expires_in: float | None = None) -> dict[str, Any]:
        """
        A single-use grant code, as the API console's Self Client "Generate Code" tab gives.

        :param scope: scope of the refresh token the code will give (default: the Apptics scope).
        :param expires_in: lifetime in seconds (default: ``grant_code_ttl``).
        """
        ttl = self.grant_code_ttl if expires_in is None else float(expires_in)
        code = new_token()
        with self._lock:
            self._codes[code] = _GrantCode(self.client_id, scope or self.scope, self.clock() + ttl)
            self.counters["grant_codes_issued"] += 1
        return {"code": code, "expires_in": int(ttl) if float(ttl).is_integer() else ttl}

    def is_live(self, token: str) -> bool:
        """Whether ``token`` is a live access token minted here."""
        with self._lock:
            owner = self._access.get(token)
            if owner is None:
                return False
            state = self._refresh[owner]
            if state.access_tokens.get(token, 0) <= self.clock():
                self._prune(state, self.clock())
                return False
            return True

    def stats(self) -> dict[str, Any]:
        """Counters (no token values)."""
        with self._lock:
            now = self.clock()
            for state in self._refresh.values():
                self._prune(state, now)
            result = {
                key: (dict(value) if isinstance(value, dict) else value)
                for key, value in self.counters.items()
            }
            result["live_tokens"] = len(self._access)
            result["refresh_tokens"] = len(self._refresh)
            return result
