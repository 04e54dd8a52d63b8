"""
Zoho's HTTP rules, shared by every call path (sync and async hooks, the deferrable trigger, the CLI).

Which failures are worth another attempt and how long to wait before it (small pure functions fed to
tenacity), what an unsuccessful answer means (``ZohoAPIError``, ``ZohoRateLimitError``, ``ZohoAuthError``
carrying the HTTP status, Zoho's error code and the URL without secrets), how bodies are decoded, and how
Zoho's own text is scrubbed of secrets before it enters a message or a log line. Nothing here sends a
request; the functions take a response of either HTTP client (requests or httpx).
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
import sys
import time
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol, Union
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_zoho.exceptions import (
    ZohoAPIError,
    ZohoAuthError,
    ZohoError,
    ZohoRateLimitError,
)
from airflow_provider_zoho.leases import finite_number

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping

    from tenacity import RetryCallState

    from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings

log = logging.getLogger(__name__)


class Response(Protocol):
    """What these rules read of an HTTP response; ``requests.Response`` and ``httpx.Response`` both fit."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Any: ...

    @property
    def url(self) -> Any: ...

    def json(self) -> Any: ...


#: Code of the error raised for a response body that is not the JSON Zoho promised (retried).
MALFORMED_RESPONSE = "malformed_response"
#: Code of the error raised when Zoho could not be reached at all, after every attempt.
UNREACHABLE = "unreachable"
#: Lower-cased ``error`` values of the token endpoint's throttle answer (seen at HTTP 200 and 400).
THROTTLE_ERRORS = frozenset({"access denied", "access_denied"})
#: What a 429 says when the called product has no more precise word for its error code.
RATE_LIMIT_HIT = "Zoho's rate limit was hit"
#: Anything shaped like a Zoho token (``1000.<hex>.<hex>``): access and refresh tokens, grant codes.
_ZOHO_TOKEN = re.compile(r"\b\d{4}\.[0-9A-Za-z]{16,}\.[0-9A-Za-z]{16,}\b")


# -- retry policy: small pure functions fed to tenacity --------------------------------------------------


def should_retry(error: BaseException, final_codes: Collection[str] = ()) -> bool:
    """
    Decide whether a failed attempt is worth another one.

    Retried: connection errors and timeouts (of requests or httpx), HTTP 429, HTTP 5xx and malformed
    bodies. Never retried: other 4xx, authentication errors and configuration errors, which no retry can
    fix, and the errors whose Zoho error code the called product declares final (Zoho Desk's
    ``THRESHOLD_EXCEEDED``, a 429 that lasts until the daily credits reset).

    :param error: the failure.
    :param final_codes: Zoho error codes that no retry can fix (a product hook's ``final_error_codes``).
    """
    import requests  # imported where used: it costs ~0.1 s, and DAG files import the hooks

    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return True
    httpx = sys.modules.get("httpx")  # only the async path uses httpx, and it imported it first
    if httpx is not None and isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, ZohoAPIError):
        if error.code is not None and error.code in final_codes:
            return False
        status = error.status_code
        return status == 429 or (status is not None and status >= 500) or error.code == MALFORMED_RESPONSE
    return False


def is_transient(error: BaseException, final_codes: Collection[str] = ()) -> bool:
    """
    Whether a failure that outlasted the retries may still heal by itself (a sensor's "not yet").

    That is what :func:`should_retry` retries, plus Zoho being unreachable after every attempt.

    :param error: the failure.
    :param final_codes: Zoho error codes that no retry can fix, as for :func:`should_retry`.
    """
    return should_retry(error, final_codes) or (isinstance(error, ZohoAPIError) and error.code == UNREACHABLE)


def retry_wait_seconds(
    attempt: int,
    retry_after: float | None = None,
    *,
    jitter: float = 1.0,
    base: float = 1.0,
    cap: float = 30.0,
    retry_after_cap: float = 120.0,
) -> float:
    """
    Seconds to wait before attempt ``attempt + 1``.

    :param attempt: the number of the attempt that just failed (1 for the first).
    :param retry_after: the server's ``Retry-After`` in seconds, honoured up to ``retry_after_cap``.
    :param jitter: a factor in ``[0, 1]`` (random in production) that spreads retries of parallel tasks
        over the second half of the exponential delay.
    :param base: the first delay.
    :param cap: the longest exponential delay.
    :param retry_after_cap: the longest ``Retry-After`` obeyed.
    """
    if retry_after is not None:
        return max(0.0, min(retry_after, retry_after_cap))
    delay = min(cap, base * 2 ** (attempt - 1))
    return delay * (0.5 + 0.5 * jitter)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header (delta seconds or an HTTP date) into seconds; ``None`` if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if not math.isnan(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def strip_query(url: str) -> str:
    """Return ``url`` without query string, fragment and userinfo, safe to show in errors and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """
    Return ``text`` (from Zoho, or built from Zoho's answer) safe for an error message or a log line.

    Every occurrence of a given secret, and anything shaped like a Zoho token (four digits and two long
    alphanumeric parts, ``1000.<hex>.<hex>``: access tokens, refresh tokens and grant codes), becomes
    ``***``.

    :param text: the text.
    :param secrets: the client secret, refresh token, access tokens... known to the caller.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _ZOHO_TOKEN.sub("***", text)


def zoho_error_code(body: Any) -> str | None:
    """
    Zoho's error code from the body of an error answer.

    Read from ``{"error": "X"}``, ``{"error": {"code": "X"}}``, Zoho Desk's ``{"errorCode": "X"}`` or
    ``{"code": "X"}``.
    """
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("code") or error.get("message")
    if error is None:
        error = body.get("errorCode")
    code = error if error is not None else body.get("code")
    return None if code is None else str(code)


#: ``grant_type`` of the hook's token mint: the connection's refresh token buys an access token.
REFRESH_TOKEN_GRANT = "refresh_token"
#: ``grant_type`` of ``auth exchange``: a Self Client grant code buys a refresh token.
AUTHORIZATION_CODE_GRANT = "authorization_code"


@dataclass(frozen=True)
class TokenRequest:
    """
    A request to Zoho's token endpoint, as :func:`token_endpoint_error` names it.

    :param grant_type: ``REFRESH_TOKEN_GRANT`` or ``AUTHORIZATION_CODE_GRANT``.
    :param accounts_url: the accounts server called.
    :param data_center: the data center the client was registered in, as the caller believes.
    :param secrets: the client secret and the grant sent (refresh token or grant code): Zoho's text is
        scrubbed of them.
    :param conn_id: the connection whose refresh token was sent (refresh-token grant).
    """

    grant_type: str
    accounts_url: str
    data_center: str
    secrets: tuple[str | None, ...] = field(default=(), repr=False)
    conn_id: str | None = None

    @classmethod
    def refresh(cls, settings: ZohoConnectionSettings) -> TokenRequest:
        """
        The hook's request: the connection's refresh token for an access token.

        :param settings: the connection.
        """
        secrets = (settings.client_secret, settings.refresh_token)
        return cls(
            REFRESH_TOKEN_GRANT, settings.accounts_url, settings.data_center, secrets, settings.conn_id
        )


@dataclass(frozen=True)
class _GrantWords:
    """Where Zoho's answers mean different things for the two grants (see :data:`_GRANT_WORDS`)."""

    #: What was asked, after "Zoho Accounts refused".
    request: str
    #: What is missing when Zoho sends neither the token nor an error code.
    missing: str
    #: Zoho's limit, when it throttles.
    limit: str
    #: What follows when Zoho does not know the client.
    unknown_client: str
    #: What ``invalid_code`` means: the grant sent is no longer valid.
    rejected: str


_GRANT_WORDS = {
    REFRESH_TOKEN_GRANT: _GrantWords(
        request="to issue an access token",
        missing="no access_token",
        limit="a refresh token may mint at most 10 access tokens per 10 minutes",
        unknown_client="Set the connection's data_center to the domain you log in at; otherwise check the "
        "Client ID and Secret.",
        rejected="Zoho rejected the refresh token of connection {conn_id!r}: it was revoked, or evicted "
        "because Zoho keeps at most 20 refresh tokens per user and client. Make a new one: in the API "
        "console generate a Self Client grant code (scope JProxy.jmobileapi.ALL), then within 3 minutes run "
        "python -m airflow_provider_zoho auth exchange --code ... and store the refresh token in the "
        "connection.",
    ),
    AUTHORIZATION_CODE_GRANT: _GrantWords(
        request="the grant code exchange",
        missing="it issued no refresh token. A Self Client grant code always gives one; a code from the web "
        "authorization flow gives one only with access_type=offline (and prompt=consent). Generate a Self "
        "Client code and try again.",
        limit="a client gets only a few new refresh tokens per minute and 10 grant codes per 10 minutes",
        unknown_client="The grant code is probably still unused: retry with the right data center while "
        "it is valid.",
        rejected="Zoho rejected the grant code: it expired (a Self Client code lives 3 minutes unless you "
        "chose longer), was already used (a code works once, even when the first exchange failed midway), "
        "or was generated in another data center than {data_center!r} ({accounts_url}). Generate a new "
        "code in the API console (Self Client > Generate Code) and exchange it within its lifetime.",
    ),
}


def token_endpoint_error(
    body: Any,
    status: int,
    url: str,
    request: TokenRequest,
    *,
    hints: Mapping[str, str] | None = None,
) -> ZohoError:
    """
    The error for a token-endpoint answer without the token asked for (Zoho answers most errors with 200).

    Zoho's error codes mean the same for both grants, except that ``invalid_code`` rejects the grant sent
    (a revoked refresh token, an expired or used grant code): ``ZohoRateLimitError`` for a throttle,
    ``ZohoAuthError`` otherwise, with Zoho's text scrubbed of the request's secrets.

    :param body: the decoded JSON body.
    :param status: the HTTP status.
    :param url: the token endpoint called.
    :param request: what was asked (:meth:`TokenRequest.refresh` for the hook's refresh-token grant).
    :param hints: the caller's advice per Zoho error code (lower case), appended to the message (the
        command line names its options).
    """
    words = _GRANT_WORDS[request.grant_type]
    error = zoho_error_code(body)
    description = scrubbed(body.get("error_description") if isinstance(body, dict) else None, request.secrets)
    code = scrubbed(error, request.secrets)
    hint = (hints or {}).get(error.lower()) if error is not None else None

    def failure(kind: type[ZohoError], message: str) -> ZohoError:
        return kind(
            f"{message} {hint}" if hint else message, status_code=status, code=code, url=strip_query(url)
        )

    if error is not None and error.lower() in THROTTLE_ERRORS:
        return failure(
            ZohoRateLimitError,
            f"Zoho throttled token creation: {words.limit} ({description or 'Access Denied'}).",
        )
    if error in ("invalid_client", "invalid_client_secret"):
        what = "this client secret" if error == "invalid_client_secret" else "this client id and secret"
        return failure(
            ZohoAuthError,
            f"Zoho Accounts at {request.accounts_url} (data center {request.data_center!r}) does not know "
            f"{what}. The usual cause is a wrong data center: a client registered at accounts.zoho.eu is "
            f"unknown to accounts.zoho.com. {words.unknown_client}",
        )
    if error == "invalid_code":
        return failure(
            ZohoAuthError,
            words.rejected.format(
                conn_id=request.conn_id, data_center=request.data_center, accounts_url=request.accounts_url
            ),
        )
    return failure(
        ZohoAuthError, f"Zoho Accounts refused {words.request}: {description or code or words.missing}"
    )


def api_error(
    message: str,
    *,
    status: int,
    body: Any,
    url: str,
    retry_after: str | None = None,
    hints: Mapping[int, str] | None = None,
    code_hints: Mapping[str, str] | None = None,
    secrets: Iterable[str | None] = (),
) -> ZohoAPIError:
    """
    The error for an unsuccessful Zoho answer: ``ZohoRateLimitError`` for 429, ``ZohoAPIError`` otherwise.

    :param message: what failed.
    :param status: the HTTP status.
    :param body: the decoded JSON body, or ``None``.
    :param url: the request URL (its query string is dropped).
    :param retry_after: the ``Retry-After`` header, kept as ``retry_after`` seconds on 429 and 5xx (the
        retried statuses), so a retry waits as long as the server asked.
    :param hints: what a status means for the API called, appended to the message.
    :param code_hints: what a Zoho error code means for the API called; it wins over the status hint.
    :param secrets: values Zoho's error code or message must not show (see :func:`scrub`).
    """
    code = scrubbed(zoho_error_code(body), secrets)
    url = strip_query(url)
    wait = parse_retry_after(retry_after) if status == 429 or status >= 500 else None
    hint = (code_hints or {}).get(code or "")
    if status == 429:
        return ZohoRateLimitError(
            f"{message}: {hint or RATE_LIMIT_HIT}",
            status_code=status,
            code=code,
            url=url,
            retry_after=wait,
        )
    hint = hint or (hints or {}).get(status, "Zoho answered with an error")
    return ZohoAPIError(f"{message}: {hint}", status_code=status, code=code, url=url, retry_after=wait)


def rejected_token_error(
    response: Response, url: str, scopes: str, secrets: Iterable[str | None]
) -> ZohoAuthError:
    """
    The error for a second 401, with a token issued a moment ago: the token cannot call this API.

    :param response: the second 401 answer.
    :param url: the URL called.
    :param scopes: the scopes the API needs, for the message.
    :param secrets: values Zoho's error code must not show.
    """
    return ZohoAuthError(
        f"Zoho rejected a freshly issued access token. Check that the refresh token has the scope this API "
        f"needs ({scopes}) and that the data center and the API URL match the account.",
        status_code=401,
        code=scrubbed(zoho_error_code(json_or_none(response)), secrets),
        url=strip_query(url),
    )


def unreachable_error(error: BaseException, attempts: int) -> ZohoAPIError:
    """
    The error for a call that never got an answer (connection errors or timeouts, every attempt).

    :param error: the last transport error (of requests or httpx).
    :param attempts: how many attempts were made.
    """
    try:
        url = str(getattr(getattr(error, "request", None), "url", "") or "")
    except RuntimeError:  # httpx: the error was raised before a request existed
        url = ""
    import requests

    httpx = sys.modules.get("httpx")
    timed_out = isinstance(error, requests.Timeout) or (
        httpx is not None and isinstance(error, httpx.TimeoutException)
    )
    return ZohoAPIError(
        f"Could not reach Zoho after {attempts} attempts: the connection "
        f"{'timed out' if timed_out else 'failed'} every time",
        code=UNREACHABLE,
        url=strip_query(url) or None,
    )


def unusable_token_answer(problem: str, status: int, url: str) -> ZohoAPIError:
    """
    The error for a token-endpoint answer that holds an access token the hook cannot use.

    :param problem: what is wrong with it (never the token or any value from it).
    :param status: the HTTP status.
    :param url: the token endpoint called.
    """
    return ZohoAPIError(
        f"Zoho Accounts' token answer is unusable: {problem}. This is not a credentials problem; if it "
        "persists, Zoho (or a proxy in front of it) answers in an unexpected format.",
        status_code=status,
        url=strip_query(url),
    )


def token_lifetime(body: dict[str, Any], status: int = 200, url: str = "") -> float:
    """
    The lifetime of a token answer in seconds.

    That is ``expires_in``, or ``expires_in_sec`` when present (in that older format ``expires_in`` is in
    milliseconds); 3600 when neither is sent.

    :param body: the token endpoint's decoded answer.
    :param status: its HTTP status (for the error).
    :param url: the token endpoint (for the error).
    :raises ZohoAPIError: when the lifetime is not a positive, finite number of seconds.
    """
    field = "expires_in_sec" if body.get("expires_in_sec") is not None else "expires_in"
    value = body.get(field)
    if value is None:
        log.warning("Zoho's token answer has no expires_in; assuming the documented 3600 s.")
        return 3600.0
    seconds: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = finite_number(value)
    elif isinstance(value, str):
        try:
            seconds = finite_number(float(value))
        except ValueError:
            seconds = None
    if seconds is None or seconds <= 0:
        raise unusable_token_answer(
            f"{field} is not a positive number of seconds (got a {type(value).__name__})", status, url
        )
    return seconds


def decode_json(response: Response) -> Any:
    """Decode a Zoho response body; ``None`` for an empty body, ``ZohoAPIError`` for a malformed one."""
    import msgspec  # an Airflow dependency; decodes about twice as fast as the json module

    return _decoded(response, msgspec.json.decode)


def decode_envelope(response: Response) -> Any:
    """
    Decode a Zoho response body down to its arrays: each item of an array stays encoded (a ``msgspec.Raw``).

    Objects and scalars outside arrays are decoded, so the envelope of a page (its ``data``, ``result``,
    platform and metric levels, how many rows each list holds) is there at a fraction of the cost of the
    whole, the rows themselves are not built. The whole body is still checked to be JSON (a truncated one
    is a ``ZohoAPIError``, retried), though not that its strings are UTF-8 or its numbers in range:
    :func:`decode_json` of the same response, which builds the rows, does that.

    :return: the envelope; ``None`` for an empty body.
    """
    return _decoded(response, _envelope_decoder().decode)


@cache
def _envelope_decoder() -> Any:
    import msgspec

    # Six object levels are decoded as such (the deepest Apptics envelope has five), anything deeper whole.
    level: Any = Any
    for _ in range(6):
        level = Union[dict[str, level], list[msgspec.Raw], str, int, float, bool, None]  # noqa: UP007
    return msgspec.json.Decoder(level)


def _decoded(response: Response, decode: Callable[[bytes], Any]) -> Any:
    content = response.content
    if response.status_code == 204 or not content.strip():
        return None
    try:
        return decode(content)
    except ValueError:  # msgspec.DecodeError, or UnicodeDecodeError for bytes that are not UTF-8
        raise ZohoAPIError(
            "Zoho answered with a body that is not valid JSON",
            status_code=response.status_code,
            code=MALFORMED_RESPONSE,
            url=strip_query(str(response.url or "")),
        ) from None


def json_or_none(response: Response) -> Any:
    """The decoded JSON body of an answer (the json module's reading), or ``None`` when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def scrubbed(text: str | None, secrets: Iterable[str | None]) -> str | None:
    return None if text is None else scrub(str(text), secrets)


def log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("Zoho call failed (%s); attempt %d, retrying in %.1f s.", error, state.attempt_number, wait)
