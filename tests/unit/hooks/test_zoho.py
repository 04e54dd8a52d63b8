from __future__ import annotations

import json
import logging
import types

import pytest
import requests
import requests_mock as requests_mock_module
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import (
    ZohoAPIError,
    ZohoAuthError,
    ZohoConfigError,
    ZohoError,
    ZohoRateLimitError,
)
from airflow_provider_zoho.hooks import token_cache, zoho
from airflow_provider_zoho.hooks.token_cache import TokenCache, parse_record, variable_key
from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook
from tests.conftest import case_id
from tests.unit.conftest import (
    API,
    APPTICS,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    THROTTLE_BODY,
    TOKEN_URL,
    FakeVariable,
    auth_header,
    connection_json,
    token_answer,
)

# -- token endpoint answers -------------------------------------------------------------------------------


class TestTokenEndpoint:
    def test_mints_with_the_refresh_token_grant(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok-1"))
        assert ZohoOAuthHook().get_access_token() == "tok-1"
        form = dict(pair.split("=") for pair in requests_mock.last_request.text.split("&"))
        assert form == {
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
        }
        assert requests_mock.last_request.query == ""  # secrets go in the body, never the URL

    def test_expires_in_seconds(self, zoho_conn, requests_mock, monkeypatch):
        monkeypatch.setattr(zoho.time, "time", lambda: 1_000_000.0)
        requests_mock.post(TOKEN_URL, **token_answer("tok", expires_in=3600))
        hook = ZohoOAuthHook()
        hook.get_access_token()
        assert TokenCache._memo["zoho_default"].expires_at == 1_003_600.0

    def test_expires_in_milliseconds_when_expires_in_sec_is_present(
        self, zoho_conn, requests_mock, monkeypatch
    ):
        monkeypatch.setattr(zoho.time, "time", lambda: 1_000_000.0)
        requests_mock.post(
            TOKEN_URL,
            json={
                "access_token": "tok",
                "expires_in_sec": 3600,
                "token_type": "Bearer",
                "expires_in": 3600000,
            },
        )
        ZohoOAuthHook().get_access_token()
        assert TokenCache._memo["zoho_default"].expires_at == 1_003_600.0

    @pytest.mark.parametrize("status", [200, 400], ids=["http-200", "http-400"])
    def test_invalid_client_names_the_data_center_and_accounts_url(self, zoho_conn, requests_mock, status):
        requests_mock.post(TOKEN_URL, json={"error": "invalid_client"}, status_code=status)
        with pytest.raises(ZohoAuthError) as error:
            ZohoOAuthHook().get_access_token()
        message = str(error.value)
        assert "data center 'com'" in message
        assert "https://accounts.example.test" in message
        assert "wrong data center" in message
        assert error.value.code == "invalid_client"
        assert error.value.status_code == status
        assert requests_mock.call_count == 1  # auth errors are never retried

    def test_invalid_code_says_revoked_or_evicted_and_how_to_fix(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, json={"error": "invalid_code"})
        with pytest.raises(ZohoAuthError) as error:
            ZohoOAuthHook().get_access_token()
        message = str(error.value)
        assert "revoked" in message
        assert "20 refresh tokens" in message
        assert "auth exchange" in message
        assert requests_mock.call_count == 1

    def test_answer_without_access_token_is_an_error(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, json={"token_type": "Bearer"})
        with pytest.raises(ZohoAuthError, match="refused to issue an access token"):
            ZohoOAuthHook().get_access_token()

    @pytest.mark.parametrize("status", [200, 400], ids=["http-200", "http-400"])
    def test_answer_with_both_error_and_access_token_is_an_error(self, zoho_conn, requests_mock, status):
        requests_mock.post(
            TOKEN_URL,
            status_code=status,
            json={"error": "invalid_code", "access_token": "1000.maybe", "expires_in": 3600},
        )
        with pytest.raises(ZohoAuthError) as error:
            ZohoOAuthHook().get_access_token()
        assert error.value.code == "invalid_code"
        assert requests_mock.call_count == 1

    @pytest.mark.parametrize(
        "answer",
        [
            {"expires_in": "abc"},
            {"expires_in": -5},
            {"expires_in": 0},
            {"expires_in": float("nan")},
            {"expires_in": float("inf")},
            {"expires_in": "inf"},
            {"expires_in": True},
            {"expires_in": [3600]},
            {"expires_in": 3600000, "expires_in_sec": "soon"},
        ],
        ids=case_id,
    )
    def test_unusable_lifetime_is_a_zoho_api_error(self, zoho_conn, requests_mock, answer):
        body = json.dumps({"access_token": "1000.fresh", "token_type": "Bearer", **answer})  # NaN, Infinity
        requests_mock.post(TOKEN_URL, text=body)
        with pytest.raises(
            ZohoAPIError, match="token answer is unusable: expires_in(_sec)? is not a positive number"
        ) as error:
            ZohoOAuthHook().get_access_token()
        assert (error.value.status_code, error.value.code, error.value.url) == (200, None, TOKEN_URL)

    @pytest.mark.parametrize("token", [12345, {"t": 1}, "has space", "tok\r\nX: 1"], ids=case_id)
    def test_access_token_that_is_not_a_token_is_unusable(self, zoho_conn, requests_mock, token):
        requests_mock.post(TOKEN_URL, json={"access_token": token, "expires_in": 3600})
        with pytest.raises(ZohoAPIError) as error:
            ZohoOAuthHook().get_access_token()
        assert error.value.message == (
            "Zoho Accounts' token answer is unusable: its access_token is not a token (visible ASCII text). "
            "This is not a credentials problem; if it persists, Zoho (or a proxy in front of it) answers in "
            "an unexpected format."
        )
        assert (error.value.status_code, error.value.code, error.value.url) == (200, None, TOKEN_URL)
        assert requests_mock.call_count == 1  # not retried: the same answer would come back

    @pytest.mark.parametrize("api_domain", [12345, ["https://www.zohoapis.com"], {"d": 1}, True, None])
    def test_an_api_domain_that_is_not_text_is_none(self, zoho_conn, requests_mock, variables, api_domain):
        requests_mock.post(
            TOKEN_URL, json={"access_token": "tok", "expires_in": 3600, "api_domain": api_domain}
        )
        assert ZohoOAuthHook().get_access_token() == "tok"
        assert TokenCache._memo["zoho_default"].api_domain is None
        assert json.loads(variables.store[variable_key("zoho_default")])["api_domain"] is None

    def test_a_mint_is_logged_with_the_connection_and_the_token_url(self, zoho_conn, requests_mock, caplog):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        with caplog.at_level(logging.INFO, logger=zoho.log.name):
            ZohoOAuthHook().get_access_token()
        said = [r.getMessage() for r in caplog.records if r.name == zoho.log.name]
        assert said == [
            "Requesting a new Zoho access token for connection 'zoho_default' from "
            "https://accounts.example.test/oauth/v2/token."
        ]

    def test_numeric_text_lifetime_is_accepted(self, zoho_conn, requests_mock, monkeypatch):
        monkeypatch.setattr(zoho.time, "time", lambda: 1_000_000.0)
        requests_mock.post(TOKEN_URL, json={"access_token": "tok", "expires_in": "3600"})
        ZohoOAuthHook().get_access_token()
        assert TokenCache._memo["zoho_default"].expires_at == 1_003_600.0

    @pytest.mark.parametrize("status", [200, 400], ids=["http-200", "http-400"])
    @pytest.mark.parametrize("error", ["invalid_request", "Access Denied"], ids=["other", "throttle"])
    def test_zoho_text_is_scrubbed_of_secrets(self, zoho_conn, requests_mock, monkeypatch, status, error):
        monkeypatch.setattr(TokenCache, "max_wait_seconds", 10.0)
        echo = (
            f"bad refresh_token={REFRESH_TOKEN} client_secret={CLIENT_SECRET} old=1000.{'a' * 32}.{'b' * 32}"
        )
        requests_mock.post(TOKEN_URL, status_code=status, json={"error": error, "error_description": echo})
        with pytest.raises(ZohoError) as caught:
            ZohoOAuthHook().get_access_token()
        chain = f"{caught.value} {caught.value.__cause__}"
        assert "bad refresh_token=*** client_secret=*** old=***" in chain
        for secret in (REFRESH_TOKEN, CLIENT_SECRET, "a" * 32):
            assert secret not in chain

    def test_secret_in_the_error_code_is_scrubbed(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, json={"error": f"no client {CLIENT_SECRET}"})
        with pytest.raises(ZohoAuthError) as caught:
            ZohoOAuthHook().get_access_token()
        assert CLIENT_SECRET not in str(caught.value)
        assert caught.value.code == "no client ***"

    def test_503_with_retry_after_is_honoured(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(
            TOKEN_URL, [{"status_code": 503, "headers": {"Retry-After": "7"}}, token_answer("ok")]
        )
        assert ZohoOAuthHook().get_access_token() == "ok"
        assert no_retry_wait == [7.0]

    def test_the_minted_token_is_masked(self, zoho_conn, requests_mock, mask_calls):
        requests_mock.post(TOKEN_URL, **token_answer("1000.minted-token"))
        assert ZohoOAuthHook().get_access_token() == "1000.minted-token"
        assert "1000.minted-token" in mask_calls

    def test_the_token_read_from_the_variable_is_masked(
        self, zoho_conn, requests_mock, variables, mask_calls
    ):
        variables.store[variable_key("zoho_default")] = json.dumps(
            {"access_token": "1000.shared-token", "expires_at": 10**10, "refreshed_at": 0, "lease": None}
        )
        assert ZohoOAuthHook().get_access_token() == "1000.shared-token"
        assert "1000.shared-token" in mask_calls
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize("status", [200, 400], ids=["http-200", "http-400"])
    def test_throttle_backs_off_then_uses_the_next_answer(
        self, zoho_conn, requests_mock, status, monkeypatch
    ):
        slept: list[float] = []
        monkeypatch.setattr(TokenCache, "throttle_backoff_seconds", (30.0, 120.0))
        monkeypatch.setattr(zoho_time_sleep_target(), "sleep", slept.append)
        requests_mock.post(
            TOKEN_URL,
            [
                {"json": THROTTLE_BODY, "status_code": status},
                {"json": THROTTLE_BODY, "status_code": status},
                token_answer("after-throttle"),
            ],
        )
        assert ZohoOAuthHook().get_access_token() == "after-throttle"
        assert slept == [30.0, 60.0]  # doubling back-off, no hammering
        assert requests_mock.call_count == 3

    def test_throttle_that_never_ends_raises_rate_limit_error(self, zoho_conn, requests_mock, monkeypatch):
        monkeypatch.setattr(TokenCache, "max_wait_seconds", 100.0)
        monkeypatch.setattr(zoho_time_sleep_target(), "sleep", lambda s: None)
        requests_mock.post(TOKEN_URL, json=THROTTLE_BODY, status_code=400)
        with pytest.raises(ZohoRateLimitError) as error:
            ZohoOAuthHook().get_access_token()
        assert error.value.code == "Access Denied"
        assert "at most 10 per 10 minutes per refresh token" in str(error.value)
        assert "10 access tokens per 10 minutes" in str(error.value.__cause__)
        assert requests_mock.call_count == 3  # 30 s + 60 s fit in 100 s; a third wait would not

    def test_timeout_is_retried_a_bounded_number_of_times(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(
            TOKEN_URL, [{"exc": requests.exceptions.ConnectTimeout}, token_answer("after-timeout")]
        )
        assert ZohoOAuthHook().get_access_token() == "after-timeout"
        assert requests_mock.call_count == 2

    def test_persistent_timeout_fails_with_zoho_api_error(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, exc=requests.exceptions.ReadTimeout)
        with pytest.raises(
            ZohoAPIError, match="Could not reach Zoho after 3 attempts: the connection timed out every time"
        ):
            ZohoOAuthHook().get_access_token()
        assert requests_mock.call_count == ZohoOAuthHook.mint_attempts

    def test_server_error_on_token_endpoint_is_retried(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, [{"status_code": 503, "text": "busy"}, token_answer("ok")])
        assert ZohoOAuthHook().get_access_token() == "ok"

    @pytest.mark.parametrize("status", [429, 500, 503, 599])
    def test_429_and_5xx_with_a_json_error_are_retried(self, zoho_conn, requests_mock, no_retry_wait, status):
        failed = {"status_code": status, "json": {"error": "busy"}, "headers": {"Retry-After": "7"}}
        requests_mock.post(TOKEN_URL, [failed, token_answer("ok")])
        assert ZohoOAuthHook().get_access_token() == "ok"
        assert no_retry_wait == [7.0]
        assert requests_mock.call_count == 2

    @pytest.mark.parametrize("status", [500, 503])
    def test_a_server_error_that_lasts_fails_with_the_last_answer(
        self, zoho_conn, requests_mock, no_retry_wait, status
    ):
        requests_mock.post(TOKEN_URL, status_code=status, json={"error": "busy"})
        with pytest.raises(ZohoAPIError) as error:
            ZohoOAuthHook().get_access_token()
        assert type(error.value) is ZohoAPIError
        assert error.value.message == (
            "Zoho Accounts failed to answer the token request: Zoho answered with an error"
        )
        assert (error.value.status_code, error.value.code, error.value.url) == (status, "busy", TOKEN_URL)
        assert requests_mock.call_count == ZohoOAuthHook.mint_attempts

    def test_a_429_that_lasts_is_a_throttled_mint(self, zoho_conn, requests_mock, no_retry_wait, monkeypatch):
        monkeypatch.setattr(TokenCache, "max_wait_seconds", 10.0)  # shorter than the first throttle back-off
        requests_mock.post(TOKEN_URL, status_code=429, json={"error": "busy"})
        with pytest.raises(ZohoRateLimitError) as error:
            ZohoOAuthHook().get_access_token()
        cause = error.value.__cause__
        assert type(cause) is ZohoRateLimitError
        assert cause.message == "Zoho Accounts failed to answer the token request: Zoho's rate limit was hit"
        assert (cause.status_code, cause.code, cause.url) == (429, "busy", TOKEN_URL)
        assert requests_mock.call_count == ZohoOAuthHook.mint_attempts

    @pytest.mark.parametrize("status", [200, 400])
    def test_a_body_that_is_not_json_is_retried_then_fails(
        self, zoho_conn, requests_mock, no_retry_wait, status
    ):
        requests_mock.post(TOKEN_URL, status_code=status, text="<html>proxy error</html>")
        with pytest.raises(ZohoAPIError) as error:
            ZohoOAuthHook().get_access_token()
        assert error.value.message == "Zoho Accounts answered the token request with a body that is not JSON"
        assert (error.value.status_code, error.value.code, error.value.url) == (
            status,
            zoho.MALFORMED_RESPONSE,
            TOKEN_URL,
        )
        assert requests_mock.call_count == ZohoOAuthHook.mint_attempts

    def test_a_body_that_is_not_json_then_a_token(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, [{"text": "<html>proxy error</html>"}, token_answer("ok")])
        assert ZohoOAuthHook().get_access_token() == "ok"
        assert requests_mock.call_count == 2

    def test_every_call_has_a_timeout(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, json={"data": []})
        ZohoOAuthHook().request("GET", API)
        assert all(r.timeout == ZohoOAuthHook.timeout for r in requests_mock.request_history)


def zoho_time_sleep_target():
    """The module whose ``time.sleep`` the token cache uses by default."""
    from airflow_provider_zoho.hooks import token_cache

    # TokenCache binds time.sleep at construction; patch the module's time so new caches pick it up.
    return token_cache.time


# -- memo, margin, invalidation ---------------------------------------------------------------------------


class TestCaching:
    def test_memo_serves_every_hook_in_the_process(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        assert ZohoOAuthHook().get_access_token() == "tok"
        assert ZohoOAuthHook().get_access_token() == "tok"
        assert requests_mock.call_count == 1

    @pytest.mark.parametrize("shared", [False, True], ids=["memo", "variable"])
    def test_a_token_shorter_than_the_margin_is_minted_once(self, zoho_conn, requests_mock, request, shared):
        # Zoho grants 200 s, less than the 300 s margin: the margin in force is half of it (100 s).
        if shared:
            request.getfixturevalue("variables")
        requests_mock.post(TOKEN_URL, [token_answer(f"short-{i}", 200) for i in range(10)])
        tokens = []
        for _ in range(10):
            tokens.append(ZohoOAuthHook().get_access_token())
            if shared:
                TokenCache.clear_memo()  # as if each call were another process
        assert tokens == ["short-0"] * 10
        assert requests_mock.call_count == 1

    def test_a_big_margin_with_a_normal_token_is_limited_by_the_form(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW_CONN_Z", connection_json(extra={"token_margin_seconds": 4000}))
        with pytest.raises(ZohoConfigError, match="from 0 to 1800"):
            _ = ZohoOAuthHook("z").settings

    def test_margin_comes_from_the_connection(self, monkeypatch, requests_mock):
        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"token_margin_seconds": 100}))
        requests_mock.post(TOKEN_URL, [token_answer("long-enough", 200), token_answer("unused", 200)])
        assert ZohoOAuthHook().get_access_token() == "long-enough"
        assert ZohoOAuthHook().get_access_token() == "long-enough"
        assert requests_mock.call_count == 1

    def test_token_is_shared_through_the_variable(self, zoho_conn, requests_mock, variables):
        requests_mock.post(TOKEN_URL, **token_answer("shared-tok"))
        ZohoOAuthHook().get_access_token()
        stored = json.loads(variables.store[variable_key("zoho_default")])
        assert stored["access_token"] == "shared-tok"
        assert stored["api_domain"] == "https://www.zohoapis.com"
        assert stored["lease"] is None
        assert set(stored) == {"access_token", "expires_at", "api_domain", "refreshed_at", "lease"}
        # another process (empty memo) reads it instead of minting
        TokenCache.clear_memo()
        assert ZohoOAuthHook().get_access_token() == "shared-tok"
        assert requests_mock.call_count == 1

    def test_variable_never_holds_the_refresh_token_or_secret(self, zoho_conn, requests_mock, variables):
        requests_mock.post(TOKEN_URL, **token_answer("shared-tok"))
        ZohoOAuthHook().get_access_token()
        written = " ".join(value for _, value in variables.sets)
        assert REFRESH_TOKEN not in written
        assert CLIENT_SECRET not in written

    def test_invalidate_only_drops_the_token_if_it_is_still_cached(self, zoho_conn, requests_mock, variables):
        requests_mock.post(TOKEN_URL, [token_answer("old"), token_answer("new")])
        hook = ZohoOAuthHook()
        assert hook.get_access_token() == "old"
        hook.invalidate_access_token("some-other-token")
        assert hook.get_access_token() == "old"
        hook.invalidate_access_token("old")
        assert json.loads(variables.store[variable_key("zoho_default")])["access_token"] is None
        assert hook.get_access_token() == "new"

    def test_dropping_a_rejected_token_is_logged_once(self, zoho_conn, requests_mock, caplog):
        requests_mock.post(TOKEN_URL, **token_answer("old"))
        hook = ZohoOAuthHook()
        hook.get_access_token()
        caplog.clear()
        with caplog.at_level(logging.INFO, logger=zoho.log.name):
            hook.invalidate_access_token("old")
            hook.invalidate_access_token("old")  # already gone: nothing to say
        dropped = [r.getMessage() for r in caplog.records if r.name == zoho.log.name]
        assert dropped == ["Dropped the cached Zoho access token of connection 'zoho_default'."]

    def test_outside_a_task_the_memo_alone_is_used_and_said_once(self, zoho_conn, requests_mock, caplog):
        requests_mock.post(TOKEN_URL, [token_answer("memo-1", 200), token_answer("memo-2", 200)])
        with caplog.at_level(logging.WARNING):
            ZohoOAuthHook().get_access_token()
            ZohoOAuthHook().get_access_token()
        fallback = [r for r in caplog.records if "cached in this process only" in r.getMessage()]
        assert len(fallback) == 1


# -- authenticated calls ------------------------------------------------------------------------------------


class TestRequest:
    def test_sends_the_zoho_oauth_header(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, json={"data": []})
        response = ZohoOAuthHook().request("GET", API, params={"limit": 500}, headers={"zsoid": "1"})
        assert response.json() == {"data": []}
        sent = requests_mock.last_request
        assert auth_header(sent) == "Zoho-oauthtoken tok"
        assert sent.headers["zsoid"] == "1"
        assert sent.qs == {"limit": ["500"]}
        assert sent.headers["User-Agent"].startswith("airflow-provider-zoho/")

    def test_401_refreshes_once_and_retries(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, [token_answer("stale"), token_answer("fresh")])
        requests_mock.get(
            API,
            [
                {"status_code": 401, "json": {"error": {"code": "INVALID_OAUTHTOKEN"}}},
                {"json": {"data": [1]}},
            ],
        )
        assert ZohoOAuthHook().request("GET", API).json() == {"data": [1]}
        api_calls = [r for r in requests_mock.request_history if r.method == "GET"]
        assert [auth_header(r) for r in api_calls] == ["Zoho-oauthtoken stale", "Zoho-oauthtoken fresh"]
        assert requests_mock.call_count == 4  # two mints, two API calls

    def test_second_401_is_an_auth_error_without_more_refreshes(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, [token_answer("a"), token_answer("b"), token_answer("c")])
        requests_mock.get(API, status_code=401, json={"error": {"code": "INVALID_OAUTHTOKEN"}})
        with pytest.raises(ZohoAuthError, match="freshly issued access token") as error:
            ZohoOAuthHook().request("GET", API)
        assert error.value.status_code == 401
        assert error.value.code == "INVALID_OAUTHTOKEN"
        assert requests_mock.call_count == 4  # 2 mints + 2 calls, no loop

    def test_a_refresh_after_a_401_is_logged(self, zoho_conn, requests_mock, caplog):
        requests_mock.post(TOKEN_URL, [token_answer("stale"), token_answer("fresh")])
        requests_mock.get(API, [{"status_code": 401}, {"json": {}}])
        with caplog.at_level(logging.INFO, logger=zoho.log.name):
            ZohoOAuthHook().request("GET", API)
        refreshing = "Zoho rejected the access token (HTTP 401); refreshing it once and retrying."
        assert refreshing in caplog.messages

    def test_the_second_401_error_is_scrubbed_of_the_fresh_token(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, [token_answer("1000.first-tok"), token_answer("1000.fresh-tok")])
        requests_mock.get(
            API,
            [
                {"status_code": 401, "json": {"error": {"code": "bad token 1000.first-tok"}}},
                {"status_code": 401, "json": {"error": {"code": "bad token 1000.fresh-tok"}}},
            ],
        )
        with pytest.raises(ZohoAuthError) as error:
            ZohoOAuthHook().request("GET", API)
        assert error.value.code == "bad token ***"
        assert "1000.fresh-tok" not in str(error.value)

    def test_429_honours_retry_after(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, [{"status_code": 429, "headers": {"Retry-After": "7"}}, {"json": {"ok": 1}}])
        assert ZohoOAuthHook().request("GET", API).json() == {"ok": 1}
        assert no_retry_wait == [7.0]

    @pytest.mark.parametrize("status", [500, 502, 503, 504])
    def test_5xx_is_retried_with_backoff(self, zoho_conn, requests_mock, no_retry_wait, status):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, [{"status_code": status}] * 3 + [{"json": {"ok": 1}}])
        assert ZohoOAuthHook().request("GET", API).json() == {"ok": 1}
        assert no_retry_wait == [1.0, 2.0, 4.0]

    def test_connection_errors_are_retried(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, [{"exc": requests.exceptions.ConnectionError}, {"json": {"ok": 1}}])
        assert ZohoOAuthHook().request("GET", API).json() == {"ok": 1}

    def test_retries_give_up_with_the_last_error(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, status_code=503, json={"code": "SERVER_BUSY"})
        with pytest.raises(ZohoAPIError) as error:
            ZohoOAuthHook().request("GET", API, params={"startdate": "01-01-2026"})
        assert error.value.status_code == 503
        assert error.value.code == "SERVER_BUSY"
        assert error.value.url == API  # no query string
        assert (
            len([r for r in requests_mock.request_history if r.method == "GET"]) == ZohoOAuthHook.max_attempts
        )

    @pytest.mark.parametrize("status", [400, 403, 404, 405, 422])
    def test_other_4xx_fail_at_once(self, zoho_conn, requests_mock, no_retry_wait, status):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, status_code=status, json={"status": "failure", "error": {"code": "NOPE"}})
        with pytest.raises(ZohoAPIError, match=r"^Zoho API call failed") as error:
            ZohoOAuthHook().request("GET", API)
        assert (error.value.status_code, error.value.code) == (status, "NOPE")
        assert len([r for r in requests_mock.request_history if r.method == "GET"]) == 1

    def test_a_product_hook_says_which_error_codes_are_final(self, zoho_conn, requests_mock, no_retry_wait):
        class Product(ZohoOAuthHook):
            final_error_codes = frozenset({"DAILY_LIMIT"})
            error_hints = {"DAILY_LIMIT": "the daily credits are spent"}

        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(
            API, [{"status_code": 429, "json": {"errorCode": "DAILY_LIMIT"}}, {"json": {"ok": 1}}]
        )
        with pytest.raises(ZohoRateLimitError, match="the daily credits are spent") as error:
            Product().request("GET", API)
        assert error.value.code == "DAILY_LIMIT"
        assert no_retry_wait == []  # not retried
        # Another 429 of the same product is retried; the base hook retries every 429.
        requests_mock.get(API, [{"status_code": 429, "json": {"errorCode": "BUSY"}}, {"json": {"ok": 1}}])
        assert Product().request("GET", API).json() == {"ok": 1}
        requests_mock.get(
            API, [{"status_code": 429, "json": {"errorCode": "DAILY_LIMIT"}}, {"json": {"ok": 1}}]
        )
        assert ZohoOAuthHook().request("GET", API).json() == {"ok": 1}

    def test_retry_after_is_honoured_on_503(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, [{"status_code": 503, "headers": {"Retry-After": "9"}}, {"json": {"ok": 1}}])
        assert ZohoOAuthHook().request("GET", API).json() == {"ok": 1}
        assert no_retry_wait == [9.0]

    def test_api_error_text_is_scrubbed_of_secrets(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("1000.used-token"))
        message = f"token 1000.used-token with secret {CLIENT_SECRET} and {REFRESH_TOKEN} refused"
        requests_mock.get(API, status_code=400, json={"status": "failure", "error": {"message": message}})
        with pytest.raises(ZohoAPIError) as caught:
            ZohoOAuthHook().request("GET", API)
        assert caught.value.code == "token *** with secret *** and *** refused"
        for secret in ("1000.used-token", CLIENT_SECRET, REFRESH_TOKEN):
            assert secret not in str(caught.value)

    def test_403_is_explained_by_the_product_hook(self, zoho_conn, requests_mock):
        from airflow_provider_zoho.hooks.apptics import AppticsHook

        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, status_code=403)
        with pytest.raises(ZohoAPIError, match=r"access denied; check the connection's ids and the refresh"):
            ZohoOAuthHook().request("GET", API)
        with pytest.raises(ZohoAPIError, match="portal_id and project_id of the connection belong"):
            AppticsHook().request("GET", API)

    def test_request_json_retries_a_truncated_body(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, [{"text": '{"data": [1, 2'}, {"json": {"data": [1, 2]}}])
        assert ZohoOAuthHook().request_json("GET", API) == {"data": [1, 2]}

    def test_request_json_reads_the_body_with_the_given_decode_inside_the_retry_loop(
        self, zoho_conn, requests_mock, no_retry_wait
    ):
        from airflow_provider_zoho.hooks.zoho_http import decode_envelope

        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(
            API, [{"text": '{"data": [{"a": 1}, {"a"'}, {"text": '{"data": [{"a": 1}, {"a": 2}]}'}]
        )
        data = ZohoOAuthHook().request_json("GET", API, decode=decode_envelope)
        assert [bytes(row) for row in data["data"]] == [b'{"a": 1}', b'{"a": 2}']  # rows left encoded
        assert len(requests_mock.request_history) == 3  # the token, the truncated body, its retry

    def test_request_json_gives_up_on_malformed_bodies(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, text="<html>oops")
        with pytest.raises(ZohoAPIError, match="not valid JSON") as error:
            ZohoOAuthHook().request_json("GET", API)
        assert error.value.code == zoho.MALFORMED_RESPONSE

    @pytest.mark.parametrize(("status", "text"), [(204, ""), (200, "  ")], ids=["204", "blank"])
    def test_request_json_empty_body_is_none(self, zoho_conn, requests_mock, status, text):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, status_code=status, text=text)
        assert ZohoOAuthHook().request_json("GET", API) is None

    def test_no_secret_reaches_the_logs(self, zoho_conn, requests_mock, no_retry_wait, caplog, monkeypatch):
        monkeypatch.setattr(zoho_time_sleep_target(), "sleep", lambda s: None)
        requests_mock.post(
            TOKEN_URL,
            [
                {"json": THROTTLE_BODY, "status_code": 400},
                {"exc": requests.exceptions.ConnectTimeout},
                token_answer("1000.first-access-token-abc"),
                token_answer("1000.second-access-token-def"),
            ],
        )
        requests_mock.get(
            API,
            [
                {"status_code": 503},
                {"status_code": 401},
                {"status_code": 429, "headers": {"Retry-After": "1"}},
                {"json": {"ok": 1}},
            ],
        )
        with caplog.at_level(logging.DEBUG):
            ZohoOAuthHook().request("GET", API)
        logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
        assert caplog.records  # the flow did log (retries, throttle, refresh)
        for secret in (
            "1000.first-access-token-abc",
            "1000.second-access-token-def",
            CLIENT_SECRET,
            REFRESH_TOKEN,
        ):
            assert secret not in logged

    def test_get_conn_is_one_session(self, zoho_conn):
        hook = ZohoOAuthHook()
        assert isinstance(hook.get_conn(), requests.Session)
        assert hook.get_conn() is hook.get_conn()

    def test_the_session_keeps_no_cookie(self, zoho_conn):
        # A cookie jar is what makes a shared session unsafe across threads, and Zoho's APIs need none.
        # requests stores a response's cookies through the jar's policy (set_cookie_if_ok), asked here.
        from requests.cookies import MockRequest, create_cookie

        jar = ZohoOAuthHook().get_conn().cookies
        request = MockRequest(requests.Request("GET", API).prepare())
        for domain in ("apptics.example.test", ".example.test", ""):
            jar.set_cookie_if_ok(create_cookie("zalb_1", "abc", domain=domain), request)
        assert len(jar) == 0

    def test_a_netrc_login_never_replaces_the_token_or_reaches_zoho(
        self, zoho_conn, requests_mock, tmp_path, monkeypatch
    ):
        # A worker's ~/.netrc with a `default` entry (for a package index, say) matches every host: a plain
        # requests session would send that login as Basic auth, over the Zoho header, to both endpoints.
        netrc = tmp_path / "netrc"
        netrc.write_text("default login build-bot password hunter2-netrc\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, json={"data": []})
        assert requests.Session().prepare_request(requests.Request("GET", API)).headers.get("Authorization")
        ZohoOAuthHook().request("GET", API)
        mint, call = requests_mock.request_history
        assert "Authorization" not in mint.headers
        assert auth_header(call) == "Zoho-oauthtoken tok"

    def test_a_call_may_still_pass_its_own_auth(self, zoho_conn, requests_mock):
        requests_mock.get(API, json={})
        ZohoOAuthHook().get_conn().get(API, auth=("user", "pass"))
        assert auth_header(requests_mock.last_request).startswith("Basic ")

    def test_the_session_pools_a_connection_for_each_thread_of_a_fan_out(self, zoho_conn):
        from airflow_provider_zoho.hooks.apptics_planning import MAX_CRASH_CONCURRENCY

        hook = ZohoOAuthHook()
        for url in ("https://apptics.zoho.com/cx", "http://127.0.0.1:8080/cx"):
            adapter = hook.get_conn().get_adapter(url)
            # the fan-out's threads and the crash list's page-ahead fetcher, each with a kept connection
            assert adapter.poolmanager.connection_pool_kw["maxsize"] >= MAX_CRASH_CONCURRENCY + 1


class TestTestConnection:
    def test_success_checks_the_apptics_project(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(
            f"{APPTICS}/cx/api/v1/userprojects",
            json={"result": [{"zsoid": "766556673", "projects": [{"projectId": "782000000004007"}]}]},
        )
        ok, message = ZohoOAuthHook().test_connection()
        assert ok, message
        assert "782000000004007" in message

    def test_reuses_the_cached_token(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(f"{APPTICS}/cx/api/v1/userprojects", json={"result": []})
        ZohoOAuthHook().get_access_token()
        ZohoOAuthHook().test_connection()
        assert len([r for r in requests_mock.request_history if r.method == "POST"]) == 1

    def test_unknown_project_fails(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(f"{APPTICS}/cx/api/v1/userprojects", json={"result": []})
        ok, message = ZohoOAuthHook().test_connection()
        assert not ok
        assert "not among the projects" in message

    def test_throttled_token_endpoint_fails_the_check_at_once(self, zoho_conn, requests_mock, monkeypatch):
        slept: list[float] = []
        monkeypatch.setattr(zoho_time_sleep_target(), "sleep", slept.append)
        requests_mock.post(TOKEN_URL, json=THROTTLE_BODY, status_code=400)
        ok, message = ZohoOAuthHook().test_connection()
        assert not ok
        assert "throttles token creation" in message
        assert slept == []  # no 30 s back-off behind a Test button
        assert requests_mock.call_count == 1

    def test_auth_failure_is_reported(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, json={"error": "invalid_client"})
        ok, message = ZohoOAuthHook().test_connection()
        assert not ok
        assert "wrong data center" in message


class NotSetUp:
    """A product hook the connection is not set up for."""

    def __init__(self, zoho_conn_id: str) -> None:
        self.zoho_conn_id = zoho_conn_id

    def check_access(self):
        return None


class Readable(NotSetUp):
    def check_access(self):
        return True, "Product B is readable."


class Broken(NotSetUp):
    def check_access(self):
        raise RuntimeError("the product check crashed")


def products(*classes: type) -> tuple[str, ...]:
    return tuple(f"{__name__}.{cls.__name__}" for cls in classes)


class TestTestConnectionOfProducts:
    def test_a_product_not_set_up_is_skipped_and_the_next_one_checked(
        self, zoho_conn, requests_mock, monkeypatch
    ):
        monkeypatch.setattr(ZohoOAuthHook, "product_hooks", products(NotSetUp, Readable))
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        assert ZohoOAuthHook().test_connection() == (
            True,
            "Connected to Zoho (com): an access token was issued. Product B is readable.",
        )

    def test_a_crashing_check_fails_the_test_and_names_the_error(self, zoho_conn, requests_mock, monkeypatch):
        monkeypatch.setattr(ZohoOAuthHook, "product_hooks", products(Broken))
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        assert ZohoOAuthHook().test_connection() == (False, "RuntimeError: the product check crashed")


# -- the retry wait of the hook --------------------------------------------------------------------------


def retry_state(attempt: int, error: BaseException):
    import tenacity

    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.outcome = tenacity.Future.construct(attempt, error, True)
    return state


class TestRetryWait:
    def test_the_delay_doubles_from_the_base_with_random_jitter(self, monkeypatch):
        monkeypatch.setattr(zoho.random, "random", lambda: 0.0)  # the shortest delay: half of it
        hook = ZohoOAuthHook()
        error = ZohoAPIError("overloaded", status_code=503)
        assert [hook._retry_wait(retry_state(n, error)) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]

    def test_the_hooks_cap_limits_the_delay(self, monkeypatch):
        monkeypatch.setattr(zoho.random, "random", lambda: 1.0)
        monkeypatch.setattr(ZohoOAuthHook, "retry_cap_seconds", 5.0)
        monkeypatch.setattr(ZohoOAuthHook, "retry_base_seconds", 2.0)
        hook = ZohoOAuthHook()
        error = ZohoAPIError("overloaded", status_code=503)
        assert [hook._retry_wait(retry_state(n, error)) for n in (1, 2, 3)] == [2.0, 4.0, 5.0]

    def test_retry_after_wins(self):
        error = ZohoRateLimitError("slow down", status_code=429, retry_after=7.0)
        assert ZohoOAuthHook()._retry_wait(retry_state(1, error)) == 7.0


# -- the asynchronous path (triggers): the same attempt and retry policy over httpx ---------------------


def run_async(hook: ZohoOAuthHook, handler, **kwargs):
    """Call ``hook.arequest_json`` through an httpx client whose transport is ``handler``."""
    import asyncio

    import httpx

    async def call():
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await hook.arequest_json(client, "GET", API, **kwargs)

    return asyncio.run(call())


class TestAsyncRequest:
    def test_async_client_has_the_hooks_timeouts_and_user_agent(self):
        import asyncio

        hook = ZohoOAuthHook()
        client = hook.async_client()
        try:
            timeout = client.timeout
            assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (10.0, 60.0, 60.0, 60.0)
            assert client.headers["User-Agent"] == hook.user_agent
        finally:
            asyncio.run(client.aclose())

    def test_sends_the_token_params_and_headers_and_decodes_the_body(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok-1"))
        seen = []

        def handler(request):
            seen.append(request)
            return httpx_response(200, json={"data": [1]})

        body = run_async(ZohoOAuthHook(), handler, params={"page": "2"}, headers={"portal": "p1"})
        assert body == {"data": [1]}
        [request] = seen
        assert (request.method, str(request.url)) == ("GET", f"{API}?page=2")
        assert request.headers["Authorization"] == "Zoho-oauthtoken tok-1"
        assert request.headers["portal"] == "p1"

    def test_an_empty_answer_is_none(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok-1"))
        assert run_async(ZohoOAuthHook(), lambda request: httpx_response(204)) is None

    def test_401_refreshes_the_token_once(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, [token_answer("tok-1"), token_answer("tok-2")])
        tokens = []

        def handler(request):
            tokens.append(request.headers["Authorization"])
            return httpx_response(401 if len(tokens) == 1 else 200, json={"ok": True})

        assert run_async(ZohoOAuthHook(), handler) == {"ok": True}
        assert tokens == ["Zoho-oauthtoken tok-1", "Zoho-oauthtoken tok-2"]

    def test_a_second_401_is_an_auth_error(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, [token_answer("tok-1"), token_answer("tok-2")])
        with pytest.raises(ZohoAuthError, match="freshly issued"):
            run_async(ZohoOAuthHook(), lambda request: httpx_response(401, json={"code": "INVALID_TOKEN"}))
        assert requests_mock.call_count == 2

    def test_5xx_is_retried_and_4xx_is_not(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        answers = [httpx_response(503), httpx_response(200, json={"ok": 1})]
        assert run_async(ZohoOAuthHook(), lambda request: answers.pop(0)) == {"ok": 1}
        assert len(no_retry_wait) == 1
        calls = []
        with pytest.raises(ZohoAPIError) as error:
            run_async(ZohoOAuthHook(), lambda request: calls.append(1) or httpx_response(404))
        assert (error.value.status_code, len(calls)) == (404, 1)

    def test_unreachable_after_every_attempt(self, zoho_conn, requests_mock, no_retry_wait):
        import httpx

        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        calls = []

        def refuse(request):
            calls.append(request)
            raise httpx.ConnectError("refused", request=request)

        with pytest.raises(ZohoAPIError) as error:
            run_async(ZohoOAuthHook(), refuse)
        assert (error.value.code, error.value.url) == ("unreachable", API)
        assert f"after {ZohoOAuthHook.max_attempts} attempts: the connection failed" in str(error.value)
        assert len(calls) == ZohoOAuthHook.max_attempts


def httpx_response(status: int, **kwargs):
    import httpx

    return httpx.Response(status, **kwargs)


# -- property-based: the two parsers of untrusted state -----------------------------------------------------

from tests.unit.hooks.test_token_cache import JSON, NOW, RECORDS, Clock  # noqa: E402


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(JSON, RECORDS, RECORDS.map(json.dumps), st.text(max_size=40)))
@example(value={"access_token": None, "lease": {"owner": "ghost-host:1", "until": NOW + 3600}})
def test_any_variable_value_gives_a_valid_token_with_at_most_one_mint(
    value, zoho_conn, variables, monkeypatch
):
    clock = Clock(NOW)
    virtual_time = types.SimpleNamespace(time=clock.time, sleep=clock.sleep)
    monkeypatch.setattr(token_cache, "time", virtual_time)
    monkeypatch.setattr(zoho, "time", virtual_time)
    # Time is virtual here, so waits cost nothing: polls of half a second (the class's own, which the
    # `variables` fixture shortens for real-time tests) honour a ghost lease for 60 reads, not 30,000.
    monkeypatch.setattr(TokenCache, "poll_seconds", 0.5)
    monkeypatch.setattr(TokenCache, "settle_seconds", 1.0)
    TokenCache.clear_memo()
    key = variable_key("zoho_default")
    FakeVariable.store = {key: value if isinstance(value, str) else json.dumps(value)}
    before = parse_record(FakeVariable.store[key]).token
    with requests_mock_module.Mocker() as http:
        http.post(TOKEN_URL, **token_answer("1000.minted"))
        try:
            token = ZohoOAuthHook().get_access_token()
        except ZohoError:
            return  # an error the provider describes is allowed; any other exception fails the test
    assert http.call_count <= 1
    if before is not None and before.usable(300, NOW):
        assert (token, http.call_count) == (before.access_token, 0)
    else:
        assert (token, http.call_count) == ("1000.minted", 1)
        after = parse_record(FakeVariable.store[key])
        assert (after.token.access_token if after.token else None, after.lease) == ("1000.minted", None)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(api_domain=JSON)
def test_the_token_answers_api_domain_is_kept_only_when_it_is_text(api_domain, zoho_conn, variables):
    TokenCache.clear_memo()
    FakeVariable.store, FakeVariable.sets = {}, []
    with requests_mock_module.Mocker() as http:
        http.post(
            TOKEN_URL, json={"access_token": "1000.minted", "expires_in": 3600, "api_domain": api_domain}
        )
        assert ZohoOAuthHook().get_access_token() == "1000.minted"
    expected = api_domain if isinstance(api_domain, str) else None
    assert TokenCache._memo["zoho_default"].api_domain == expected
    assert json.loads(FakeVariable.store[variable_key("zoho_default")])["api_domain"] == expected
