from __future__ import annotations

import json
import logging
import math
import pickle
import types

import pytest
import requests
import requests_mock as requests_mock_module
from hypothesis import HealthCheck, given, settings
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
from airflow_provider_zoho.hooks.zoho import (
    ZohoConnectionSettings,
    ZohoOAuthHook,
    api_error,
    parse_retry_after,
    retry_wait_seconds,
    scrub,
    should_retry,
    strip_query,
)
from tests.unit.conftest import (
    APPTICS,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    TOKEN_URL,
    FakeVariable,
    connection_json,
)

API = f"{APPTICS}/cx/api/v1/crash/list"
THROTTLE_BODY = {
    "error_description": "You have made too many requests continuously. Please try again after some time.",
    "error": "Access Denied",
    "status": "failure",
}


def token_answer(token: str, expires_in: int = 3600) -> dict:
    return {
        "json": {
            "access_token": token,
            "api_domain": "https://www.zohoapis.com",
            "token_type": "Bearer",
            "expires_in": expires_in,
        }
    }


def auth_header(request) -> str:
    return request.headers["Authorization"]


# -- connection settings ----------------------------------------------------------------------------------


class TestSettings:
    def test_defaults_follow_the_data_center(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_ZOHO_EU",
            connection_json(extra={"data_center": "eu", "accounts_url": None, "apptics_url": None}),
        )
        settings = ZohoOAuthHook("zoho_eu").settings
        assert settings.accounts_url == "https://accounts.zoho.eu"
        assert settings.apptics_url == "https://apptics.zoho.eu"
        assert settings.token_margin_seconds == 300
        assert settings.portal_id == "766556673"

    @pytest.mark.parametrize(
        ("data_center", "accounts"),
        [
            ("com", "https://accounts.zoho.com"),
            ("eu", "https://accounts.zoho.eu"),
            ("in", "https://accounts.zoho.in"),
            ("com.au", "https://accounts.zoho.com.au"),
            ("jp", "https://accounts.zoho.jp"),
            ("ca", "https://accounts.zohocloud.ca"),
            ("sa", "https://accounts.zoho.sa"),
            ("uk", "https://accounts.zoho.uk"),
            ("com.cn", "https://accounts.zoho.com.cn"),
        ],
        ids=lambda v: v,
    )
    def test_every_data_center_has_its_accounts_server(self, monkeypatch, data_center, accounts):
        monkeypatch.setenv(
            "AIRFLOW_CONN_Z", connection_json(extra={"data_center": data_center, "accounts_url": ""})
        )
        assert ZohoOAuthHook("z").settings.accounts_url == accounts

    def test_overrides_win_and_lose_trailing_slash(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_Z",
            connection_json(extra={"accounts_url": "http://127.0.0.1:9/", "apptics_url": "http://h:1/x/"}),
        )
        settings = ZohoOAuthHook("z").settings
        assert (settings.accounts_url, settings.apptics_url) == ("http://127.0.0.1:9", "http://h:1/x")

    def test_legacy_prefixed_extras_are_read(self, monkeypatch):
        conn = {
            "conn_type": "zoho",
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "extra": {
                "extra__zoho__refresh_token": REFRESH_TOKEN,
                "extra__zoho__data_center": "in",
                "extra__zoho__portal_id": "42",
                "extra__zoho__token_margin_seconds": "120",
            },
        }
        monkeypatch.setenv("AIRFLOW_CONN_Z", json.dumps(conn))
        settings = ZohoOAuthHook("z").settings
        assert settings.refresh_token == REFRESH_TOKEN
        assert settings.accounts_url == "https://accounts.zoho.in"
        assert settings.portal_id == "42"
        assert settings.token_margin_seconds == 120

    @pytest.mark.parametrize(
        ("overrides", "named"),
        [
            ({"login": ""}, "Client ID (login)"),
            ({"password": None}, "Client Secret (password)"),
            ({"extra": {"refresh_token": ""}}, "'refresh_token'"),
            ({"extra": {"data_center": "us"}}, "unknown data_center 'us'"),
            ({"extra": {"token_margin_seconds": "soon"}}, "token_margin_seconds"),
            ({"extra": {"token_margin_seconds": "***"}}, "the UI's mask: clear the field"),
            ({"extra": {"accounts_url": "accounts.zoho.com"}}, "accounts_url must be an http(s) URL"),
        ],
        ids=[
            "client-id",
            "client-secret",
            "refresh-token",
            "data-center",
            "margin",
            "masked-margin",
            "accounts-url",
        ],
    )
    def test_bad_connection_names_the_field_before_any_request(
        self, monkeypatch, requests_mock, overrides, named
    ):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(**overrides))
        hook = ZohoOAuthHook("bad")
        with pytest.raises(ZohoConfigError, match="Zoho connection 'bad'") as error:
            hook.request("GET", API)
        assert named in str(error.value)
        assert requests_mock.call_count == 0

    def test_unknown_data_center_lists_the_valid_ones(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"data_center": "zoho.com"}))
        with pytest.raises(ZohoConfigError, match=r"com, eu, in, com\.au, jp, ca, sa, uk, com\.cn"):
            _ = ZohoOAuthHook("bad").settings

    def test_secrets_are_not_in_the_repr(self, zoho_conn):
        text = repr(ZohoOAuthHook().settings)
        assert CLIENT_SECRET not in text
        assert REFRESH_TOKEN not in text
        assert CLIENT_ID in text

    def test_constructor_does_no_io(self, monkeypatch):
        monkeypatch.delenv("AIRFLOW_CONN_ZOHO_DEFAULT", raising=False)
        hook = ZohoOAuthHook()  # no connection exists: constructing must still work
        assert hook.zoho_conn_id == "zoho_default"

    @pytest.mark.parametrize("field", ["portal_id", "project_id"])
    @pytest.mark.parametrize(
        "value",
        [
            "not-a-number",
            "766556673\r\nX-Injected: 1",
            "７６６５５６６７３",
            "12a",
            "-5",
            "1.5",
            "1 2",
            True,
            1.5,
        ],
        ids=["letters", "crlf", "full-width", "hex", "negative", "decimal", "space", "bool", "float"],
    )
    def test_ids_are_ascii_digits_before_any_request(self, monkeypatch, requests_mock, field, value):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={field: value}))
        with pytest.raises(
            ZohoConfigError, match=f"Zoho connection 'bad': {field} must be a number made of the digits 0-9"
        ):
            ZohoOAuthHook("bad").request("GET", API)
        assert requests_mock.call_count == 0  # neither a mint nor a call

    @pytest.mark.parametrize("value", ["766556673", 766556673, " 42 "], ids=["text", "json-int", "spaces"])
    def test_ids_may_be_json_numbers_or_padded(self, monkeypatch, value):
        monkeypatch.setenv("AIRFLOW_CONN_Z", connection_json(extra={"portal_id": value}))
        assert ZohoOAuthHook("z").settings.portal_id == str(value).strip()

    @pytest.mark.parametrize("field", ["accounts_url", "apptics_url"])
    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            ("ftp://host", "the scheme is not http or https"),
            ("http://host/?next=1", "a query (?...) or fragment (#...)"),
            ("http://host/#top", "a query (?...) or fragment (#...)"),
            ("http://host:99999", "the port is not a number from 1 to 65535"),
            ("http://host:0", "the port is not a number from 1 to 65535"),
            ("http://host:", "the port is not a number from 1 to 65535"),
            ("http://host:http", "the port is not a number from 1 to 65535"),
            ("http:///path", "the host is missing"),
            ("http://ho%st", "the host is missing"),
            ("http://host/a b", "visible ASCII, no spaces"),
            ("http://host\r\nX: 1", "visible ASCII, no spaces"),
            ("http://hőst", "visible ASCII, no spaces"),
            (["http://host"], "visible ASCII, no spaces"),
        ],
        ids=lambda v: repr(v)[:30],
    )
    def test_url_overrides_are_bare_server_roots(self, monkeypatch, requests_mock, field, value, problem):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={field: value}))
        with pytest.raises(ZohoConfigError) as error:
            ZohoOAuthHook("bad").request("GET", API)
        assert f"Zoho connection 'bad': {field} must be an http(s) URL of the form" in str(error.value)
        assert problem in str(error.value)
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize("field", ["accounts_url", "apptics_url"])
    def test_url_with_user_info_is_refused_without_showing_it(self, monkeypatch, requests_mock, field):
        monkeypatch.setenv(
            "AIRFLOW_CONN_BAD", connection_json(extra={field: "http://admin:pw-9f3e@proxy:8080"})
        )
        with pytest.raises(ZohoConfigError, match=f"{field} must be an http.*user name or password") as error:
            ZohoOAuthHook("bad").request("GET", API)
        assert "pw-9f3e" not in str(error.value)
        assert "admin" not in str(error.value)
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize(
        "value",
        ["http://admin:pw-9f3e@proxy:8080 ", "http://admin:pw-9f3e @proxy", "http://h/?u=admin:pw-9f3e@x"],
    )
    def test_a_refused_url_with_an_at_sign_is_never_shown(self, monkeypatch, value):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"apptics_url": value + "\r\n"}))
        with pytest.raises(ZohoConfigError, match="apptics_url must be an http") as error:
            _ = ZohoOAuthHook("bad").settings
        assert "pw-9f3e" not in str(error.value)

    @pytest.mark.parametrize(
        ("value", "root"),
        [
            ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
            ("https://proxy.example.test/zoho/", "https://proxy.example.test/zoho"),
            ("HTTPS://Host:443", "HTTPS://Host:443"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ],
        ids=lambda v: v,
    )
    def test_valid_url_overrides(self, monkeypatch, value, root):
        monkeypatch.setenv("AIRFLOW_CONN_Z", connection_json(extra={"accounts_url": value}))
        assert ZohoOAuthHook("z").settings.accounts_url == root

    @pytest.mark.parametrize(
        "value",
        [-1, 1801, 4000, "1e3", "1.5", 1.5, True, "soon", [300], float("inf"), float("nan")],
        ids=repr,
    )
    def test_margin_is_a_whole_number_up_to_1800(self, monkeypatch, requests_mock, value):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"token_margin_seconds": value}))
        with pytest.raises(
            ZohoConfigError, match="token_margin_seconds must be a whole number of seconds from 0 to 1800"
        ):
            ZohoOAuthHook("bad").request("GET", API)
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize(
        ("value", "margin"),
        [(0, 0), (1800, 1800), ("120", 120), (" 60 ", 60), (90.0, 90), ("", 300), (None, 300)],
        ids=repr,
    )
    def test_valid_margins(self, monkeypatch, value, margin):
        monkeypatch.setenv("AIRFLOW_CONN_Z", connection_json(extra={"token_margin_seconds": value}))
        assert ZohoOAuthHook("z").settings.token_margin_seconds == margin

    def test_extra_that_is_not_an_object_is_a_config_error(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_BAD", json.dumps({"conn_type": "zoho", "login": "i", "password": "p", "extra": [1]})
        )
        with pytest.raises(ZohoConfigError, match="the extra must be a JSON object"):
            _ = ZohoOAuthHook("bad").settings

    def test_config_errors_never_show_the_secrets(self, monkeypatch):
        # A secret pasted into the wrong field is refused without being shown.
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"portal_id": CLIENT_SECRET}))
        with pytest.raises(ZohoConfigError, match="portal_id") as error:
            _ = ZohoOAuthHook("bad").settings
        assert CLIENT_SECRET not in str(error.value)

    def test_secrets_are_masked_as_soon_as_the_connection_is_read(self, zoho_conn, mask_calls):
        _ = ZohoOAuthHook().settings
        assert CLIENT_SECRET in mask_calls
        assert REFRESH_TOKEN in mask_calls

    def test_secrets_are_masked_even_when_another_field_is_invalid(self, monkeypatch, mask_calls):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"data_center": "mars"}))
        with pytest.raises(ZohoConfigError):
            _ = ZohoOAuthHook("bad").settings
        assert {CLIENT_SECRET, REFRESH_TOKEN} <= set(mask_calls)


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
        ids=repr,
    )
    def test_unusable_lifetime_is_a_zoho_api_error(self, zoho_conn, requests_mock, answer):
        body = json.dumps({"access_token": "1000.fresh", "token_type": "Bearer", **answer})  # NaN, Infinity
        requests_mock.post(TOKEN_URL, text=body)
        with pytest.raises(
            ZohoAPIError, match="token answer is unusable: expires_in(_sec)? is not a positive number"
        ):
            ZohoOAuthHook().get_access_token()

    @pytest.mark.parametrize("token", [12345, {"t": 1}, "has space", "tok\r\nX: 1"], ids=repr)
    def test_access_token_that_is_not_a_token_is_unusable(self, zoho_conn, requests_mock, token):
        requests_mock.post(TOKEN_URL, json={"access_token": token, "expires_in": 3600})
        with pytest.raises(ZohoAPIError, match="token answer is unusable: its access_token is not a token"):
            ZohoOAuthHook().get_access_token()

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
        with pytest.raises(ZohoAPIError, match="Could not reach Zoho after 3 attempts: ReadTimeout"):
            ZohoOAuthHook().get_access_token()
        assert requests_mock.call_count == ZohoOAuthHook.mint_attempts

    def test_server_error_on_token_endpoint_is_retried(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, [{"status_code": 503, "text": "busy"}, token_answer("ok")])
        assert ZohoOAuthHook().get_access_token() == "ok"

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
        with pytest.raises(ZohoAPIError) as error:
            ZohoOAuthHook().request("GET", API)
        assert (error.value.status_code, error.value.code) == (status, "NOPE")
        assert len([r for r in requests_mock.request_history if r.method == "GET"]) == 1

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

    def test_403_explains_portal_project_and_scope(self, zoho_conn, requests_mock):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, status_code=403)
        with pytest.raises(ZohoAPIError, match="portal_id and project_id"):
            ZohoOAuthHook().request("GET", API)

    def test_request_json_retries_a_truncated_body(self, zoho_conn, requests_mock, no_retry_wait):
        requests_mock.post(TOKEN_URL, **token_answer("tok"))
        requests_mock.get(API, [{"text": '{"data": [1, 2'}, {"json": {"data": [1, 2]}}])
        assert ZohoOAuthHook().request_json("GET", API) == {"data": [1, 2]}

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


# -- pure retry policy --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (requests.ConnectionError(), True),
        (requests.exceptions.ReadTimeout(), True),
        (requests.exceptions.ConnectTimeout(), True),
        (ZohoRateLimitError("x", status_code=429), True),
        (ZohoAPIError("x", status_code=500), True),
        (ZohoAPIError("x", status_code=503), True),
        (ZohoAPIError("x", status_code=200, code=zoho.MALFORMED_RESPONSE), True),
        (ZohoAPIError("x", status_code=400), False),
        (ZohoAPIError("x", status_code=403), False),
        (ZohoAPIError("x", status_code=404), False),
        (ZohoRateLimitError("throttled", status_code=400, code="Access Denied"), False),
        (ZohoAuthError("x", status_code=401), False),
        (ZohoConfigError("x"), False),
        (ValueError("x"), False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_should_retry(error, retry):
    assert should_retry(error) is retry


@pytest.mark.parametrize(
    ("attempt", "retry_after", "jitter", "expected"),
    [
        (1, None, 1.0, 1.0),
        (2, None, 1.0, 2.0),
        (3, None, 1.0, 4.0),
        (3, None, 0.0, 2.0),  # jitter spreads over the second half of the delay
        (10, None, 1.0, 30.0),  # capped
        (1, 7.0, 0.3, 7.0),  # Retry-After wins over backoff and jitter
        (1, 900.0, 1.0, 120.0),  # ... up to its cap
        (1, -5.0, 1.0, 0.0),
    ],
)
def test_retry_wait_seconds(attempt, retry_after, jitter, expected):
    assert retry_wait_seconds(attempt, retry_after, jitter=jitter) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("12", 12.0),
        (" 3 ", 3.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("garbage", None),
    ],
)
def test_parse_retry_after(header, expected):
    now = 1445412480.0  # 2015-10-21T07:28:00Z
    assert parse_retry_after(header, now=now) == expected


def test_parse_retry_after_ignores_nan():
    assert parse_retry_after("nan") is None
    assert parse_retry_after("inf") == math.inf  # then capped by retry_wait_seconds


@pytest.mark.parametrize(
    ("status", "retry_after", "kind", "expected"),
    [
        (429, "5", ZohoRateLimitError, 5.0),
        (503, "6", ZohoAPIError, 6.0),
        (500, "7", ZohoAPIError, 7.0),
        (400, "8", ZohoAPIError, None),  # not retried: nothing to wait for
        (503, None, ZohoAPIError, None),
    ],
)
def test_api_error_keeps_retry_after_on_retryable_statuses(status, retry_after, kind, expected):
    error = api_error("call failed", status=status, body=None, url="https://h/p", retry_after=retry_after)
    assert type(error) is kind
    assert error.retry_after == expected


def test_rate_limit_error_retry_after_survives_pickling():
    error = ZohoRateLimitError("slow down", status_code=429, code="X", url="https://h/p", retry_after=12.5)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.retry_after, copy.status_code, copy.code, copy.url) == (
        ZohoRateLimitError,
        12.5,
        429,
        "X",
        "https://h/p",
    )
    assert str(copy) == str(error)


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("secret s3cr3t here", ["s3cr3t"], "secret *** here"),
        ("ab abc", ["ab", "abc"], "*** ***"),  # the longer secret first
        ("none", [None, ""], "none"),
        (f"x 1000.{'0a' * 16}.{'f' * 32} y", [], "x *** y"),  # any Zoho-shaped token
        ("1000.short.token", [], "1000.short.token"),
    ],
)
def test_scrub(text, secrets, expected):
    assert scrub(text, secrets) == expected


def test_strip_query_drops_query_fragment_and_userinfo():
    assert (
        strip_query("https://u:p@apptics.zoho.com/cx/api/v1/x?token=1#f")
        == "https://apptics.zoho.com/cx/api/v1/x"
    )


def test_errors_survive_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(ZohoAPIError("boom", status_code=503, code="X", url="https://h/p")))
    assert (error.status_code, error.code, error.url) == (503, "X", "https://h/p")
    assert str(error) == "boom [HTTP 503, Zoho error 'X', https://h/p]"


def test_settings_dataclass_is_validated_once(zoho_conn, monkeypatch):
    calls = []
    real = ZohoConnectionSettings.from_connection
    monkeypatch.setattr(ZohoConnectionSettings, "from_connection", lambda c: calls.append(1) or real(c))
    hook = ZohoOAuthHook()
    assert hook.settings is hook.settings
    assert calls == [1]


# -- property-based: the two parsers of untrusted state -----------------------------------------------------

from tests.unit.hooks.test_token_cache import JSON, NOW, RECORDS, Clock  # noqa: E402


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(JSON, RECORDS, RECORDS.map(json.dumps), st.text(max_size=40)))
def test_any_variable_value_gives_a_valid_token_with_at_most_one_mint(
    value, zoho_conn, variables, monkeypatch
):
    clock = Clock(NOW)
    virtual_time = types.SimpleNamespace(time=clock.time, sleep=clock.sleep)
    monkeypatch.setattr(token_cache, "time", virtual_time)
    monkeypatch.setattr(zoho, "time", virtual_time)
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


CLIENT_SECRET_P = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=4, max_size=12).map(
    lambda t: f"S3CR3T-{t}"
)
REFRESH_TOKEN_P = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=4, max_size=12).map(
    lambda t: f"1000.R3FRESH-{t}"
)
FIELDS = (
    "refresh_token",
    "data_center",
    "accounts_url",
    "apptics_url",
    "portal_id",
    "project_id",
    "token_margin_seconds",
)
PLAUSIBLE = st.sampled_from(
    [
        "",
        " ",
        "com",
        "EU",
        ".in",
        "http://127.0.0.1:9",
        "https://h/x/",
        "http://u:p@h",
        "http://h/?q",
        "7",
        "1801",
        "***",
    ]
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), secret=CLIENT_SECRET_P, refresh=REFRESH_TOKEN_P)
def test_any_connection_gives_valid_settings_or_a_config_error_without_secrets(
    data, secret, refresh, mask_calls
):
    # Values may be anything JSON holds, plausible ones, or a secret pasted into the wrong field.
    value = st.one_of(JSON, PLAUSIBLE, st.just(secret), st.just(refresh))
    names = st.sampled_from([*FIELDS, *(f"extra__zoho__{name}" for name in FIELDS), "unknown"])
    extra = data.draw(
        st.one_of(st.dictionaries(names, value, max_size=8), st.just({"refresh_token": refresh}), JSON),
        "extra",
    )
    login = data.draw(st.one_of(st.none(), st.text(max_size=10), st.just(CLIENT_ID)), "login")
    password = data.draw(st.one_of(st.none(), st.just(secret)), "password")
    conn = types.SimpleNamespace(conn_id="prop", login=login, password=password, extra_dejson=extra)
    # The connection's secrets: what its password and refresh-token fields hold (the distinctive values).
    held = (
        [password, *(extra.get(k) for k in ("refresh_token", "extra__zoho__refresh_token"))]
        if isinstance(extra, dict)
        else [password]
    )
    secrets = {value for value in held if value in (secret, refresh)}
    try:
        settings_, message = ZohoConnectionSettings.from_connection(conn), ""
    except ZohoConfigError as error:
        settings_, message = None, str(error)
    if settings_ is None:
        assert not [value for value in secrets if value in message]
        return
    assert settings_.client_id
    assert settings_.client_secret
    assert settings_.refresh_token
    assert settings_.data_center in zoho.DATA_CENTERS
    for field in ("accounts_url", "apptics_url"):
        url = getattr(settings_, field)
        assert zoho.validate_root_url(url, field, example="") == url
    for field in ("portal_id", "project_id"):
        assert getattr(settings_, field) is None or getattr(settings_, field).isdigit()
    assert 0 <= settings_.token_margin_seconds <= 1800
    assert secret in mask_calls  # registered with the masker on the way
