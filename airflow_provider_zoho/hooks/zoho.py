"""
``ZohoOAuthHook``: a ``zoho`` connection turned into short-lived access tokens and authenticated calls.

Tokens come from :class:`~airflow_provider_zoho.hooks.token_cache.TokenCache`, shared by every task and
worker. Calls go through one HTTP core, whether they are synchronous (requests, for tasks) or asynchronous
(httpx, for triggers):

- one attempt is written once, as the generator :meth:`ZohoOAuthHook._attempt`: it asks for a token,
  has the request sent with it, refreshes the token once on a 401 and maps any other failure to a
  ``ZohoError`` (:mod:`~airflow_provider_zoho.hooks.zoho_http`); a synchronous and an asynchronous driver
  only carry its steps out;
- attempts are retried by tenacity (``Retrying`` or ``AsyncRetrying``) with the same pure decision and
  wait functions: connection errors, timeouts, 429 and 5xx, honouring ``Retry-After``.

The hook knows no Zoho product: product hooks (Apptics, Desk) add their paths, headers and paging, and
the checks :meth:`ZohoOAuthHook.test_connection` runs for them.
"""

from __future__ import annotations

import importlib
import logging
import random
import time
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_zoho import __version__
from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoError
from airflow_provider_zoho.get_provider_info import DATA_CENTERS, TOKEN_MARGIN_MAX_SECONDS
from airflow_provider_zoho.hooks.token_cache import AccessToken, TokenCache, is_token_text, mask
from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings
from airflow_provider_zoho.hooks.zoho_http import (
    MALFORMED_RESPONSE,
    TokenRequest,
    api_error,
    decode_json,
    json_or_none,
    log_retry,
    rejected_token_error,
    retry_wait_seconds,
    should_retry,
    strip_query,
    token_endpoint_error,
    token_lifetime,
    unreachable_error,
    unusable_token_answer,
    zoho_error_code,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Generator, Mapping

    import httpx
    import requests
    from tenacity import RetryCallState

    from airflow_provider_zoho.hooks.zoho_http import Response

    #: One step of an attempt: ("token", None), ("send", token) or ("invalidate", token).
    Step = tuple[str, Any]

log = logging.getLogger(__name__)


class ZohoOAuthHook(BaseHook):
    """
    Authenticated access to Zoho APIs with an access-token cache shared by all tasks and workers.

    The connection (type ``zoho``) holds the Self Client id (login) and secret (password) and, in its
    extras, ``refresh_token``, ``data_center`` and the optional fields of the products it serves
    (``portal_id``, ``project_id``, URL overrides, ``token_margin_seconds``...). The constructor does no
    I/O.

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
    #: Connections per host the session keeps for reuse: one per thread a hook runs its calls from (a
    #: stream's page-ahead fetcher, the threads of a per-crash fan-out).
    http_pool_size: int = 32
    #: The scopes the called API needs, named when Zoho rejects a freshly issued token.
    scopes: ClassVar[str] = "the scopes of the Zoho API called"
    #: What an HTTP status means for the called API, appended to the ``ZohoAPIError`` message.
    status_hints: ClassVar[Mapping[int, str]] = {
        400: "the request was rejected; check the arguments",
        403: "access denied; check the connection's ids and the refresh token's scopes",
        404: "no such endpoint; check the data center and the connection's URL override",
    }
    #: What a Zoho error code means for the called API; it wins over :attr:`status_hints`.
    error_hints: ClassVar[Mapping[str, str]] = {}
    #: Zoho error codes no retry can fix, whatever their HTTP status (see ``zoho_http.should_retry``).
    final_error_codes: ClassVar[frozenset[str]] = frozenset()
    #: Product hooks whose checks :meth:`test_connection` runs (each when the connection is set up for it).
    product_hooks: ClassVar[tuple[str, ...]] = (
        "airflow_provider_zoho.hooks.apptics.AppticsHook",
        "airflow_provider_zoho.hooks.desk.ZohoDeskHook",
    )

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
        """The access-token cache of this connection (memo, shared Variable, single-flight lease)."""
        return TokenCache(self.zoho_conn_id, self.settings.token_margin_seconds)

    def get_conn(self) -> requests.Session:
        """
        Return the HTTP session used for every call (the ``Authorization`` header is added per call).

        The hook's threads share it: it keeps no cookies (Zoho's APIs authenticate every call by its
        token, and the cookie jar is the part of a session that is not safe to share between threads), and
        its connection pool keeps :attr:`http_pool_size` connections per host.
        """
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        from http.cookiejar import DefaultCookiePolicy

        import requests

        from airflow_provider_zoho.hooks.transport import ZohoHTTPAdapter

        session = requests.Session()
        session.headers["User-Agent"] = self.user_agent
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # no domain may set a cookie
        session.auth = _no_other_auth
        adapter = ZohoHTTPAdapter(pool_maxsize=self.http_pool_size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` of every call."""
        return f"airflow-provider-zoho/{__version__}"

    def async_client(self) -> httpx.AsyncClient:
        """
        A new asynchronous HTTP client with this hook's timeouts and ``User-Agent`` (close it after use).

        :return: an ``httpx.AsyncClient``, for :meth:`arequest_json`.
        """
        import httpx

        connect, read = self.timeout
        return httpx.AsyncClient(
            timeout=httpx.Timeout(read, connect=connect), headers={"User-Agent": self.user_agent}
        )

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
            raise self._api_error("Zoho Accounts failed to answer the token request", response)
        body = json_or_none(response)
        if body is None:
            raise ZohoAPIError(
                "Zoho Accounts answered the token request with a body that is not JSON",
                status_code=response.status_code,
                code=MALFORMED_RESPONSE,
                url=strip_query(url),
            )
        return body, response.status_code

    def _token_from_body(self, body: Any, status: int, url: str) -> AccessToken:
        if zoho_error_code(body) is not None or not isinstance(body, dict) or not body.get("access_token"):
            raise token_endpoint_error(body, status, url, TokenRequest.refresh(self.settings))
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
        """What ``scrub`` removes from Zoho's text: the connection's secrets and the given tokens."""
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
        return self._retrying(self._call, method, url, params, headers, kwargs)

    def request_json(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        decode: Callable[[requests.Response], Any] = decode_json,
        **kwargs: Any,
    ) -> Any:
        """
        Like :meth:`request`, decoding the JSON body inside the retry loop (a truncated body is retried).

        :param decode: reads the successful response; :func:`~.zoho_http.decode_json` (the whole body) by
            default. A ``ZohoAPIError`` it raises with the malformed-response code is retried.
        :return: the decoded body; ``None`` for an empty body (e.g. HTTP 204).
        """

        def call() -> Any:
            return decode(self._call(method, url, params, headers, kwargs))

        return self._retrying(call)

    async def arequest_json(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """
        :meth:`request_json` for the event loop: the same attempt, errors and retry policy, with httpx.

        The token cache is synchronous (Airflow Variables), so its steps run in a worker thread.

        :param client: from :meth:`async_client`.
        :param method: HTTP method.
        :param url: absolute URL.
        :param params: query parameters.
        :param headers: extra headers (``Authorization`` is added).
        :return: the decoded body; ``None`` for an empty body (e.g. HTTP 204).
        """

        async def call() -> Any:
            async def send(token: str) -> httpx.Response:
                all_headers = {**(headers or {}), "Authorization": f"Zoho-oauthtoken {token}"}
                return await client.request(method, url, params=params, headers=all_headers)

            return decode_json(await self._adrive(self._attempt(url), send))

        return await self._aretrying(call)

    def _call(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
        kwargs: dict[str, Any],
    ) -> requests.Response:
        """One synchronous attempt (see :meth:`_attempt`)."""
        options = {"timeout": self.timeout, **kwargs}

        def send(token: str) -> requests.Response:
            all_headers = {**(headers or {}), "Authorization": f"Zoho-oauthtoken {token}"}
            return self.get_conn().request(method, url, params=params, headers=all_headers, **options)

        return self._drive(self._attempt(url), send)

    def _attempt(self, url: str) -> Generator[Step, Any, Any]:
        """
        One authenticated attempt, the same for every HTTP client, as steps a driver carries out.

        It yields ``("token", None)`` for an access token, ``("send", token)`` for the response to the
        request sent with that token and ``("invalidate", token)`` to drop a token Zoho rejected; it
        returns the accepted response. A 401 refreshes the token once; a second 401, or any other error
        status, raises the mapped ``ZohoError`` (scrubbed of the tokens used and the connection's secrets).
        """
        token = yield "token", None
        response = yield "send", token
        if response.status_code == 401:
            log.info("Zoho rejected the access token (HTTP 401); refreshing it once and retrying.")
            yield "invalidate", token
            token = yield "token", None
            response = yield "send", token
            if response.status_code == 401:
                raise rejected_token_error(response, url, self.scopes, self._secrets(token))
        if response.status_code >= 400:
            raise self._api_error("Zoho API call failed", response, token)
        return response

    def _drive(self, attempt: Generator[Step, Any, Any], send: Callable[[str], Any]) -> Any:
        """Carry out the steps of ``attempt`` synchronously; return what it returns."""
        value: Any = None
        while True:
            try:
                kind, token = attempt.send(value)
            except StopIteration as done:
                return done.value
            if kind == "send":
                value = send(token)
            elif kind == "token":
                value = self.get_access_token()
            else:
                self.invalidate_access_token(token)
                value = None

    async def _adrive(self, attempt: Generator[Step, Any, Any], send: Callable[[str], Awaitable[Any]]) -> Any:
        """Carry out the steps of ``attempt`` on the event loop (the token cache in a worker thread)."""
        import asyncio

        value: Any = None
        while True:
            try:
                kind, token = attempt.send(value)
            except StopIteration as done:
                return done.value
            if kind == "send":
                value = await send(token)
            elif kind == "token":
                value = await asyncio.to_thread(self.get_access_token)
            else:
                value = await asyncio.to_thread(self.invalidate_access_token, token)

    def _api_error(self, message: str, response: Response, *access_tokens: str | None) -> ZohoAPIError:
        return api_error(
            message,
            status=response.status_code,
            body=json_or_none(response),
            url=str(response.url or ""),
            retry_after=response.headers.get("Retry-After"),
            hints=self.status_hints,
            code_hints=self.error_hints,
            secrets=self._secrets(*access_tokens),
        )

    def _retry_policy(self, attempts: int | None) -> dict[str, Any]:
        """The tenacity policy of both drivers (``Retrying`` and ``AsyncRetrying``): one rule for both."""
        import tenacity

        return {
            "stop": tenacity.stop_after_attempt(attempts or self.max_attempts),
            "wait": self._retry_wait,
            "retry": tenacity.retry_if_exception(partial(should_retry, final_codes=self.final_error_codes)),
            "before_sleep": log_retry,
            "reraise": True,
        }

    def _retrying(self, func: Callable[..., Any], *args: Any, attempts: int | None = None) -> Any:
        import requests
        import tenacity

        try:
            return tenacity.Retrying(**self._retry_policy(attempts))(func, *args)
        except (requests.ConnectionError, requests.Timeout) as error:
            raise unreachable_error(error, attempts or self.max_attempts) from error

    async def _aretrying(self, func: Callable[[], Awaitable[Any]]) -> Any:
        import httpx
        import tenacity

        try:
            return await tenacity.AsyncRetrying(**self._retry_policy(None))(func)
        except httpx.TransportError as error:
            raise unreachable_error(error, self.max_attempts) from error

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
        Check the connection: a token (reusing the cached one), then each product's own check.

        Each product the connection is set up for checks its access (Apptics: the portal and project are
        readable; Zoho Desk: the organization is listed and readable). Used by the UI's Test button and
        ``airflow connections test``.
        """
        try:
            settings = self.settings
            # A check answers within seconds: wait for another process's refresh, not out a throttle.
            TokenCache(
                self.zoho_conn_id,
                settings.token_margin_seconds,
                max_wait_seconds=self.test_connection_wait_seconds,
            ).get(self._mint_access_token)
            messages = [f"Connected to Zoho ({settings.data_center}): an access token was issued."]
            for path in self.product_hooks:
                module, _, name = path.rpartition(".")
                product = getattr(importlib.import_module(module), name)(zoho_conn_id=self.zoho_conn_id)
                outcome = product.check_access()
                if outcome is None:
                    continue
                ok, message = outcome
                if not ok:
                    return False, f"Token OK, but {message}"
                messages.append(message)
            return True, " ".join(messages)
        except ZohoError as error:
            return False, str(error)
        except Exception as error:  # the Test button must show any failure, not crash
            return False, f"{type(error).__name__}: {error}"

    def check_access(self) -> tuple[bool, str] | None:
        """
        A product's part of :meth:`test_connection`: whether the connection can read the product.

        :return: ``None`` when the connection is not set up for the product, else ``(ok, message)``.
        """
        return None

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
            "desk_org_id": StringField(lazy_gettext("Desk organization ID"), widget=BS3TextFieldWidget()),
            "desk_url": StringField(lazy_gettext("Desk URL override"), widget=BS3TextFieldWidget()),
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


def _no_other_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """
    The session's ``auth``: none besides the ``Authorization`` header each Zoho call sets itself.

    A session without one reads ``~/.netrc`` (or ``$NETRC``) on every call and, when the file has an entry
    for the host or a ``default`` one, replaces that header with the entry's Basic auth: the login would go
    to Zoho and Zoho would reject the call. A per-call ``auth=`` still takes precedence over this one.
    """
    return request
