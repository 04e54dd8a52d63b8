"""
``ZohoOAuthHook``: turns a ``zoho`` connection into short-lived access tokens and authenticated calls.

Tokens come from :class:`~airflow_provider_zoho.hooks.token_cache.TokenCache`, shared by every task and
worker. Calls get timeouts, retries (connection errors, timeouts, 429 and 5xx, honouring ``Retry-After``)
and one token refresh on a 401.

Connection fields are checked when the connection is read, before any request (``validate_*``, reusable by
field name), and the client secret and refresh token are registered with Airflow's secret masker then.
Text that comes from Zoho is passed through :func:`scrub` before it enters an error message or a log line.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import re
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_zoho import __version__
from airflow_provider_zoho.exceptions import (
    ZohoAPIError,
    ZohoAuthError,
    ZohoConfigError,
    ZohoError,
    ZohoRateLimitError,
)
from airflow_provider_zoho.get_provider_info import DATA_CENTERS, TOKEN_MARGIN_MAX_SECONDS
from airflow_provider_zoho.hooks.token_cache import AccessToken, TokenCache, is_token_text, mask
from airflow_provider_zoho.leases import finite_number

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import requests
    from tenacity import RetryCallState

log = logging.getLogger(__name__)

#: Accounts server per data center (https://www.zoho.com/accounts/protocol/oauth/multi-dc.html).
ACCOUNTS_HOSTS = {dc: f"accounts.zoho.{dc}" for dc in DATA_CENTERS} | {"ca": "accounts.zohocloud.ca"}
#: Apptics API server per data center. Zoho documents com, eu and in; the others follow the same rule
#: ("replace .com with your domain") and can be overridden with the connection's ``apptics_url``.
APPTICS_HOSTS = {dc: f"apptics.zoho.{dc}" for dc in DATA_CENTERS} | {"ca": "apptics.zohocloud.ca"}

#: Code of the error raised for a response body that is not the JSON Zoho promised (retried).
MALFORMED_RESPONSE = "malformed_response"
#: Lower-cased ``error`` values of the token endpoint's throttle answer (seen at HTTP 200 and 400).
THROTTLE_ERRORS = frozenset({"access denied", "access_denied"})
#: Refresh margin used when the connection leaves ``token_margin_seconds`` empty.
DEFAULT_TOKEN_MARGIN_SECONDS = 300
#: Anything shaped like a Zoho token (``1000.<hex>.<hex>``): access and refresh tokens, grant codes.
_ZOHO_TOKEN = re.compile(r"\b\d{4}\.[0-9A-Za-z]{16,}\.[0-9A-Za-z]{16,}\b")
_DIGITS = re.compile(r"[0-9]+")
_HOST = re.compile(r"[a-z0-9._:-]+")
#: What a URL override may contain at all: visible ASCII (no spaces, CR/LF or other control characters).
_URL_TEXT = re.compile(r"[\x21-\x7e]+")


# -- retry policy: small pure functions fed to tenacity --------------------------------------------------


def should_retry(error: BaseException) -> bool:
    """
    Decide whether a failed call is worth another attempt.

    Retried: connection errors, timeouts, HTTP 429, HTTP 5xx and malformed bodies. Never retried: other
    4xx, authentication errors and configuration errors, which no retry can fix.
    """
    import requests  # imported where used: it costs ~0.1 s, and DAG files import this module

    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return True
    if isinstance(error, ZohoAPIError):
        status = error.status_code
        return status == 429 or (status is not None and status >= 500) or error.code == MALFORMED_RESPONSE
    return False


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
    """Zoho's error code from ``{"error": "X"}``, ``{"error": {"code": "X"}}`` or ``{"code": "X"}``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("code") or error.get("message")
    code = error if error is not None else body.get("code")
    return None if code is None else str(code)


# -- connection settings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZohoConnectionSettings:
    """
    The validated fields of a ``zoho`` connection.

    :param conn_id: the connection id.
    :param client_id: Self Client id (the connection's login).
    :param client_secret: Self Client secret (the connection's password).
    :param refresh_token: long-lived refresh token (extra ``refresh_token``).
    :param data_center: one of ``DATA_CENTERS``.
    :param accounts_url: accounts server root, derived from the data center unless overridden.
    :param apptics_url: Apptics server root, derived from the data center unless overridden.
    :param portal_id: Apptics portal id (header ``zsoid``).
    :param project_id: Apptics project id (header ``projectid``).
    :param token_margin_seconds: refresh a token this long before it expires.
    """

    conn_id: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    data_center: str = "com"
    accounts_url: str = "https://accounts.zoho.com"
    apptics_url: str = "https://apptics.zoho.com"
    portal_id: str | None = None
    project_id: str | None = None
    token_margin_seconds: int = 300

    @classmethod
    def from_connection(cls, conn: Any) -> ZohoConnectionSettings:
        """
        Validate an Airflow connection; raise ``ZohoConfigError`` naming the first bad field.

        The client secret and the refresh token are registered with Airflow's secret masker as soon as they
        are read, and no error message shows them.
        """
        conn_id = conn.conn_id
        context = f"Zoho connection {conn_id!r}: "
        extra = conn.extra_dejson
        if extra is None or extra == "":
            extra = {}
        if not isinstance(extra, dict):
            raise ZohoConfigError(
                f"{context}the extra must be a JSON object of fields, got a {type(extra).__name__}."
            )

        def extra_field(name: str) -> Any:
            value = extra.get(name)
            if value in (None, ""):
                value = extra.get(f"extra__zoho__{name}")
            return None if value in (None, "") else value

        def text(value: Any) -> str | None:
            return None if value is None else str(value).strip() or None

        def required(value: str | None, what: str) -> str:
            if not value:
                raise ZohoConfigError(f"{context}{what}")
            return value

        secrets = (text(conn.password), text(extra_field("refresh_token")))
        for secret in secrets:
            mask(secret)
        client_id = required(
            text(conn.login),
            "the Client ID (login) is empty. Copy it from your Self Client in the Zoho API console "
            "(https://api-console.zoho.com, or the console of your data center).",
        )
        client_secret = required(
            text(conn.password),
            "the Client Secret (password) is empty. Copy it from the Self Client's 'Client Secret' tab.",
        )
        refresh_token = required(
            text(extra_field("refresh_token")),
            "the extra field 'refresh_token' is empty. Generate a grant code for your Self Client "
            "(scope JProxy.jmobileapi.ALL) and exchange it within 3 minutes: "
            "python -m airflow_provider_zoho auth exchange --code ... --client-id ... --client-secret ...",
        )
        data_center = (text(extra_field("data_center")) or "com").lower().lstrip(".")
        if data_center not in DATA_CENTERS:
            raise ZohoConfigError(
                f"{context}unknown data_center {_shown(data_center, secrets)}. Use one of "
                f"{', '.join(DATA_CENTERS)}: the domain of accounts.zoho.<data center> you log in at "
                "(ca is accounts.zohocloud.ca)."
            )

        def url(name: str, hosts: dict[str, str]) -> str:
            value = extra_field(name)
            if value is None:
                return f"https://{hosts[data_center]}"
            return validate_root_url(
                value, name, example=f"https://{hosts[data_center]}", context=context, secrets=secrets
            )

        def digits(name: str) -> str | None:
            value = extra_field(name)
            return None if value is None else validate_digits(value, name, context=context, secrets=secrets)

        return cls(
            conn_id=conn_id,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            data_center=data_center,
            accounts_url=url("accounts_url", ACCOUNTS_HOSTS),
            apptics_url=url("apptics_url", APPTICS_HOSTS),
            portal_id=digits("portal_id"),
            project_id=digits("project_id"),
            token_margin_seconds=validate_margin(
                extra_field("token_margin_seconds"), context=context, secrets=secrets
            ),
        )


# -- field validators: each raises ZohoConfigError naming the field, and never shows a secret ---------------


def _shown(value: Any, secrets: Iterable[str | None] = ()) -> str:
    """``repr(value)`` for an error message: scrubbed of ``secrets`` and cut to 60 characters."""
    shown = scrub(repr(value), secrets)
    return shown if len(shown) <= 60 else f"{shown[:57]}..."


def validate_root_url(
    value: Any, field: str, *, example: str, context: str = "", secrets: Iterable[str | None] = ()
) -> str:
    """
    Check a server root override such as ``accounts_url``, ``apptics_url`` or ``desk_url``.

    :param value: the value given.
    :param field: its name, for the message (a connection field, or a command-line option).
    :param example: a valid value, for the message.
    :param context: what the message starts with (e.g. ``Zoho connection 'x': ``).
    :param secrets: values the message must not show.
    :return: ``http(s)://host[:port][/path]`` without a trailing slash.
    :raises ZohoConfigError: for anything else: another scheme, user info (``user:password@``, never shown
        since it may hold a password), a query or fragment, a bad port, spaces or control characters.
    """
    text = value.strip() if isinstance(value, str) else value
    must = (
        f"{context}{field} must be an http(s) URL of the form http(s)://host[:port][/path], such as {example}"
    )
    # A value with "@" may hold user:password@: it is never shown.
    shown = "a value that is not shown (it contains '@')" if "@" in str(value) else _shown(value, secrets)
    if not isinstance(text, str) or not _URL_TEXT.fullmatch(text):
        raise ZohoConfigError(f"{must} (visible ASCII, no spaces), got {shown}.")
    parts = urlsplit(text)
    if "@" in parts.netloc:
        raise ZohoConfigError(
            f"{must}: it contains a user name or password (user:password@host), which Zoho does not use; "
            "remove it (the value is not shown because it may hold a password)."
        )
    problem = _root_url_problem(parts, text)
    if problem:
        raise ZohoConfigError(f"{must}: {problem}, got {shown}.")
    return text.rstrip("/")


def _root_url_problem(parts: SplitResult, text: str) -> str | None:
    if parts.scheme not in ("http", "https"):
        return "the scheme is not http or https"
    if not parts.hostname or not _HOST.fullmatch(parts.hostname):
        return "the host is missing or not a host name"
    if "?" in text or "#" in text:
        return "a query (?...) or fragment (#...) has no place in a server root"
    try:
        port = parts.port
    except ValueError:
        return "the port is not a number from 1 to 65535"
    if port == 0 or parts.netloc.endswith(":"):
        return "the port is not a number from 1 to 65535"
    return None


def validate_digits(value: Any, field: str, *, context: str = "", secrets: Iterable[str | None] = ()) -> str:
    """
    Check an id sent in a header, such as ``portal_id``, ``project_id`` or ``desk_org_id``.

    :param value: the value given (text, or a JSON integer).
    :param field: its name, for the message.
    :param context: what the message starts with (e.g. ``Zoho connection 'x': ``).
    :param secrets: values the message must not show.
    :return: the id as text.
    :raises ZohoConfigError: unless it is made of the ASCII digits 0-9 only (no signs, spaces, CR/LF or
        full-width digits).
    """
    text = str(value).strip(" ") if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not _DIGITS.fullmatch(text):
        raise ZohoConfigError(
            f"{context}{field} must be a number made of the digits 0-9 only, got {_shown(value, secrets)}. "
            "Copy it from the product's URL or its settings page."
        )
    return text


def validate_margin(value: Any, *, context: str = "", secrets: Iterable[str | None] = ()) -> int:
    """
    Check ``token_margin_seconds``: a whole number of seconds from 0 to 1800; empty means 300.

    :param value: the value given (``None`` when empty).
    :param context: what the message starts with (e.g. ``Zoho connection 'x': ``).
    :param secrets: values the message must not show.
    :return: the margin in seconds.
    :raises ZohoConfigError: for anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_TOKEN_MARGIN_SECONDS
    margin: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        margin = value
    elif isinstance(value, float) and value.is_integer():
        margin = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        margin = int(value.strip())
    if margin is None or not 0 <= margin <= TOKEN_MARGIN_MAX_SECONDS:
        hint = " (the UI's mask: clear the field and save again)" if value == "***" else ""
        raise ZohoConfigError(
            f"{context}token_margin_seconds must be a whole number of seconds from 0 to "
            f"{TOKEN_MARGIN_MAX_SECONDS} (empty means {DEFAULT_TOKEN_MARGIN_SECONDS}), got "
            f"{_shown(value, secrets)}{hint}."
        )
    return margin


# -- the hook ----------------------------------------------------------------------------------------------


class ZohoOAuthHook(BaseHook):
    """
    Authenticated access to Zoho APIs with an access-token cache shared by all tasks and workers.

    The connection (type ``zoho``) holds the Self Client id (login) and secret (password) and, in its
    extras, ``refresh_token``, ``data_center`` and optionally ``accounts_url``, ``apptics_url``,
    ``portal_id``, ``project_id`` and ``token_margin_seconds``. The constructor does no I/O.

    :param zoho_conn_id: the Airflow connection id.
    """

    conn_name_attr = "zoho_conn_id"
    default_conn_name = "zoho_default"
    conn_type = "zoho"
    hook_name = "Zoho"

    #: (connect, read) timeout in seconds for every call that does not pass its own ``timeout``.
    timeout: tuple[float, float] = (10.0, 60.0)
    #: Attempts per call (the first one included) for retryable failures.
    max_attempts: int = 6
    #: Attempts for a token mint that fails in transit (each may cost one of Zoho's 10 mints per 10 min).
    mint_attempts: int = 3
    #: First retry delay in seconds; it doubles per attempt (with jitter) up to ``retry_cap_seconds``.
    retry_base_seconds: float = 1.0
    #: Longest exponential retry delay in seconds (``Retry-After`` is obeyed up to 120 s).
    retry_cap_seconds: float = 30.0
    #: How long :meth:`test_connection` waits for a token (a throttled refresh token fails it at once).
    test_connection_wait_seconds: float = 20.0

    def __init__(self, zoho_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zoho_conn_id = zoho_conn_id

    # -- connection ---------------------------------------------------------------------------------------

    @cached_property
    def settings(self) -> ZohoConnectionSettings:
        """The validated connection (read once per hook)."""
        return ZohoConnectionSettings.from_connection(self.get_connection(self.zoho_conn_id))

    @cached_property
    def token_cache(self) -> TokenCache:
        return TokenCache(self.zoho_conn_id, self.settings.token_margin_seconds)

    def get_conn(self) -> requests.Session:
        """Return the HTTP session used for every call (the ``Authorization`` header is added per call)."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        import requests

        session = requests.Session()
        session.headers["User-Agent"] = f"airflow-provider-zoho/{__version__}"
        return session

    # -- tokens -------------------------------------------------------------------------------------------

    def get_access_token(self) -> str:
        """Return a valid access token: memoized, shared through the Variable, or freshly minted."""
        return self.token_cache.get(self._mint_access_token).access_token

    def invalidate_access_token(self, token: str) -> None:
        """Drop ``token`` from the caches if it is still the cached one (e.g. after Zoho rejected it)."""
        if self.token_cache.invalidate(token):
            log.info("Dropped the cached Zoho access token of connection %r.", self.zoho_conn_id)

    def _mint_access_token(self) -> AccessToken:
        settings = self.settings
        url = f"{settings.accounts_url}/oauth/v2/token"
        form = {
            "grant_type": "refresh_token",
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
            "refresh_token": settings.refresh_token,
        }
        log.info("Requesting a new Zoho access token for connection %r from %s.", self.zoho_conn_id, url)
        body, status = self._retrying(self._post_token_request, url, form, attempts=self.mint_attempts)
        return self._token_from_body(body, status, url)

    def _post_token_request(self, url: str, form: dict[str, str]) -> tuple[Any, int]:
        response = self.get_conn().post(url, data=form, timeout=self.timeout)
        if response.status_code >= 500 or response.status_code == 429:
            raise self._api_error(
                "Zoho Accounts failed to answer the token request", response, self._secrets()
            )
        try:
            return response.json(), response.status_code
        except ValueError:
            raise ZohoAPIError(
                "Zoho Accounts answered the token request with a body that is not JSON",
                status_code=response.status_code,
                code=MALFORMED_RESPONSE,
                url=strip_query(url),
            ) from None

    def _token_from_body(self, body: Any, status: int, url: str) -> AccessToken:
        if zoho_error_code(body) is not None or not isinstance(body, dict) or not body.get("access_token"):
            raise token_endpoint_error(body, status, url, self.settings)
        token = body["access_token"]
        if not is_token_text(token):
            raise unusable_token_answer("its access_token is not a token (visible ASCII text)", status, url)
        mask(token)
        lifetime = token_lifetime(body, status, url)
        api_domain = body.get("api_domain")
        now = time.time()
        return AccessToken(
            access_token=token,
            expires_at=now + lifetime,
            api_domain=api_domain if isinstance(api_domain, str) else None,
            refreshed_at=now,
        )

    def _secrets(self, *access_tokens: str | None) -> tuple[str | None, ...]:
        """What :func:`scrub` removes from Zoho's text: the connection's secrets and the given tokens."""
        settings = self.settings
        return (settings.client_secret, settings.refresh_token, *access_tokens)

    # -- calls --------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """
        Make an authenticated call with timeouts, retries and one token refresh on a 401.

        :param method: HTTP method.
        :param url: absolute URL.
        :param params: query parameters.
        :param headers: extra headers (``Authorization`` is added).
        :param kwargs: passed to :meth:`requests.Session.request` (``timeout`` defaults to ``self.timeout``).
        :return: the successful (2xx) response.
        """
        return self._retrying(self._authorized_request, method, url, params=params, headers=headers, **kwargs)

    def request_json(self, method: str, url: str, **kwargs: Any) -> Any:
        """
        Like :meth:`request`, decoding the JSON body inside the retry loop (a truncated body is retried).

        An empty body (e.g. HTTP 204) decodes to ``None``.
        """

        def call() -> Any:
            return decode_json(self._authorized_request(method, url, **kwargs))

        return self._retrying(call)

    def _authorized_request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        token = self.get_access_token()
        response = self._send(method, url, token, params, headers, kwargs)
        if response.status_code == 401:
            log.info("Zoho rejected the access token (HTTP 401); refreshing it once and retrying.")
            self.invalidate_access_token(token)
            token = self.get_access_token()
            response = self._send(method, url, token, params, headers, kwargs)
            if response.status_code == 401:
                raise ZohoAuthError(
                    "Zoho rejected a freshly issued access token. Check that the refresh token has the "
                    "scope this API needs (JProxy.jmobileapi.ALL for Apptics) and that the data center and "
                    "API URL match the account.",
                    status_code=401,
                    code=_scrubbed(zoho_error_code(_json_or_none(response)), self._secrets(token)),
                    url=strip_query(url),
                )
        if response.status_code >= 400:
            raise self._api_error("Zoho API call failed", response, self._secrets(token))
        return response

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        kwargs: dict[str, Any],
    ) -> requests.Response:
        all_headers = {**(headers or {}), "Authorization": f"Zoho-oauthtoken {token}"}
        return self.get_conn().request(method, url, params=params, headers=all_headers, **kwargs)

    @staticmethod
    def _api_error(message: str, response: requests.Response, secrets: Iterable[str | None]) -> ZohoAPIError:
        return api_error(
            message,
            status=response.status_code,
            body=_json_or_none(response),
            url=response.url or "",
            retry_after=response.headers.get("Retry-After"),
            secrets=secrets,
        )

    def _retrying(self, func: Callable[..., Any], *args: Any, attempts: int | None = None, **kwargs: Any):
        import requests
        import tenacity

        retryer = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts or self.max_attempts),
            wait=self._retry_wait,
            retry=tenacity.retry_if_exception(should_retry),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retryer(func, *args, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            url = strip_query(getattr(error.request, "url", None) or "") or None
            raise ZohoAPIError(
                f"Could not reach Zoho after {attempts or self.max_attempts} attempts: "
                f"{type(error).__name__}",
                url=url,
            ) from error

    def _retry_wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return retry_wait_seconds(
            state.attempt_number,
            getattr(error, "retry_after", None),
            jitter=random.random(),
            base=self.retry_base_seconds,
            cap=self.retry_cap_seconds,
        )

    # -- Airflow integration -------------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """
        Check the connection: obtain a token (reusing the cached one) and, for Apptics, list the projects.

        Used by the UI's Test button and ``airflow connections test``.
        """
        try:
            settings = self.settings
            # A check answers within seconds: wait for another process's refresh, not out a throttle.
            self.token_cache.max_wait_seconds = self.test_connection_wait_seconds
            self.get_access_token()
            if settings.portal_id and settings.project_id:
                body = self.request_json("GET", f"{settings.apptics_url}/cx/api/v1/userprojects")
                found = _project_listed(body, settings.portal_id, settings.project_id)
                if not found:
                    return False, (
                        f"Token OK, but Apptics portal {settings.portal_id} / project {settings.project_id} "
                        "is not among the projects this account can read."
                    )
                return True, (
                    f"Connected to Zoho ({settings.data_center}); Apptics portal {settings.portal_id} and "
                    f"project {settings.project_id} are readable."
                )
            return True, f"Connected to Zoho ({settings.data_center}): an access token was issued."
        except ZohoError as error:
            return False, str(error)
        except Exception as error:  # the Test button must show any failure, not crash
            return False, f"{type(error).__name__}: {error}"

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Extra connection fields for Airflow < 3.2 (3.2+ reads ``conn-fields`` in provider info)."""
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import IntegerField, PasswordField, StringField
        from wtforms.validators import NumberRange, Optional

        # Airflow 2 forms accept only string, password, integer and boolean fields: no drop-down.
        return {
            "refresh_token": PasswordField(lazy_gettext("Refresh token"), widget=BS3PasswordFieldWidget()),
            "data_center": StringField(
                lazy_gettext("Data center"),
                widget=BS3TextFieldWidget(),
                default="com",
                description=f"One of {', '.join(DATA_CENTERS)}",
            ),
            "portal_id": StringField(lazy_gettext("Apptics portal ID"), widget=BS3TextFieldWidget()),
            "project_id": StringField(lazy_gettext("Apptics project ID"), widget=BS3TextFieldWidget()),
            "accounts_url": StringField(lazy_gettext("Accounts URL override"), widget=BS3TextFieldWidget()),
            "apptics_url": StringField(lazy_gettext("Apptics URL override"), widget=BS3TextFieldWidget()),
            "token_margin_seconds": IntegerField(
                lazy_gettext("Token refresh margin (s)"),
                widget=BS3TextFieldWidget(),
                validators=[Optional(), NumberRange(min=0, max=TOKEN_MARGIN_MAX_SECONDS)],
            ),
        }

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabelled and hidden standard fields for Airflow < 3.2."""
        from airflow_provider_zoho.get_provider_info import get_provider_info

        behaviour = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
        return {
            "hidden_fields": list(behaviour["hidden-fields"]),
            "relabeling": dict(behaviour["relabeling"]),
            "placeholders": dict(behaviour["placeholders"]),
        }


def token_endpoint_error(body: Any, status: int, url: str, settings: ZohoConnectionSettings) -> ZohoError:
    """
    The error for a refresh-token answer without an access token (Zoho answers most errors with HTTP 200).

    :param body: the decoded JSON body.
    :param status: the HTTP status.
    :param url: the token endpoint called.
    :param settings: the connection, to name its data center, accounts server and id.
    """
    secrets = (settings.client_secret, settings.refresh_token)
    error = zoho_error_code(body)
    description = _scrubbed(body.get("error_description") if isinstance(body, dict) else None, secrets)
    status_code, code, where = status, _scrubbed(error, secrets), strip_query(url)
    if error is not None and error.lower() in THROTTLE_ERRORS:
        return ZohoRateLimitError(
            "Zoho throttled token creation: a refresh token may mint at most 10 access tokens per "
            f"10 minutes ({description or 'Access Denied'}).",
            status_code=status_code,
            code=code,
            url=where,
        )
    if error in ("invalid_client", "invalid_client_secret"):
        return ZohoAuthError(
            f"Zoho Accounts at {settings.accounts_url} (data center {settings.data_center!r}) does not "
            "know this client id and secret. The usual cause is a wrong data center: a client registered "
            "at accounts.zoho.eu is unknown to accounts.zoho.com. Set the connection's data_center to the "
            "domain you log in at; otherwise check the Client ID and Secret.",
            status_code=status_code,
            code=code,
            url=where,
        )
    if error == "invalid_code":
        return ZohoAuthError(
            f"Zoho rejected the refresh token of connection {settings.conn_id!r}: it was revoked, or "
            "evicted because Zoho keeps at most 20 refresh tokens per user and client. Make a new one: in "
            "the API console generate a Self Client grant code (scope JProxy.jmobileapi.ALL), then within "
            "3 minutes run python -m airflow_provider_zoho auth exchange --code ... and store the refresh "
            "token in the connection.",
            status_code=status_code,
            code=code,
            url=where,
        )
    return ZohoAuthError(
        f"Zoho Accounts refused to issue an access token: {description or code or 'no access_token'}",
        status_code=status_code,
        code=code,
        url=where,
    )


def api_error(
    message: str,
    *,
    status: int,
    body: Any,
    url: str,
    retry_after: str | None = None,
    secrets: Iterable[str | None] = (),
) -> ZohoAPIError:
    """
    The error for an unsuccessful Zoho answer: ``ZohoRateLimitError`` for 429, ``ZohoAPIError`` otherwise.

    :param message: what failed.
    :param status: the HTTP status.
    :param body: the decoded JSON body, or ``None``.
    :param url: the request URL (its query string is dropped).
    :param retry_after: the ``Retry-After`` header, kept as ``retry_after`` seconds on the errors that are
        retried (429 and 5xx), so the retry waits as long as the server asked.
    :param secrets: values Zoho's error code or message must not show (see :func:`scrub`).
    """
    code = _scrubbed(zoho_error_code(body), secrets)
    url = strip_query(url)
    wait = parse_retry_after(retry_after) if status == 429 or status >= 500 else None
    if status == 429:
        return ZohoRateLimitError(
            f"{message}: Zoho's rate limit was hit", status_code=status, code=code, url=url, retry_after=wait
        )
    hint = {
        400: "the request was rejected; check the arguments",
        403: "access denied; check that the portal_id and project_id of the connection belong to this "
        "account and that the refresh token has the JProxy.jmobileapi.ALL scope",
        404: "no such endpoint; check apptics_url / the data center",
    }.get(status, "Zoho answered with an error")
    return ZohoAPIError(f"{message}: {hint}", status_code=status, code=code, url=url, retry_after=wait)


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


def decode_json(response: requests.Response) -> Any:
    """Decode a Zoho response body; ``None`` for an empty body, ``ZohoAPIError`` for a malformed one."""
    import msgspec  # an Airflow dependency; decodes about twice as fast as the json module

    if response.status_code == 204 or not response.content.strip():
        return None
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        raise ZohoAPIError(
            "Zoho answered with a body that is not valid JSON",
            status_code=response.status_code,
            code=MALFORMED_RESPONSE,
            url=strip_query(response.url or ""),
        ) from None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _scrubbed(text: str | None, secrets: Iterable[str | None]) -> str | None:
    return None if text is None else scrub(str(text), secrets)


def _project_listed(body: Any, portal_id: str, project_id: str) -> bool:
    portals = body.get("result", body) if isinstance(body, dict) else body
    for portal in portals if isinstance(portals, list) else []:
        if str(portal.get("zsoid")) != portal_id:
            continue
        if any(str(p.get("projectId")) == project_id for p in portal.get("projects") or []):
            return True
    return False


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning("Zoho call failed (%s); attempt %d, retrying in %.1f s.", error, state.attempt_number, wait)
