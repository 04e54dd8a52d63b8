from __future__ import annotations

import math
import pickle

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import (
    ZohoAPIError,
    ZohoAuthError,
    ZohoConfigError,
    ZohoRateLimitError,
)
from airflow_provider_zoho.hooks import zoho
from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings
from airflow_provider_zoho.hooks.zoho_http import (
    AUTHORIZATION_CODE_GRANT,
    REFRESH_TOKEN_GRANT,
    TokenRequest,
    api_error,
    parse_retry_after,
    retry_wait_seconds,
    scrub,
    should_retry,
    strip_query,
    token_endpoint_error,
)
from tests.unit.conftest import (
    APPTICS,
)
from tests.unit.hooks.test_token_cache import JSON

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


# -- the token endpoint's answers, for both grants ----------------------------------------------------------

EU_TOKEN = "https://accounts.zoho.eu/oauth/v2/token"
GRANT_CODE = f"1000.{'c' * 32}.{'d' * 32}"
SETTINGS = ZohoConnectionSettings(
    conn_id="zoho_eu",
    client_id="1000.ID",
    client_secret="client-secret-9b2e",
    refresh_token="1000.refresh-token-5c1a",
    data_center="eu",
    accounts_url="https://accounts.zoho.eu",
)
REFRESH = TokenRequest.refresh(SETTINGS)
EXCHANGE = TokenRequest(
    AUTHORIZATION_CODE_GRANT, "https://accounts.zoho.eu", "eu", (SETTINGS.client_secret, GRANT_CODE)
)
GRANTS = pytest.mark.parametrize("request_", [REFRESH, EXCHANGE], ids=["refresh-token", "authorization-code"])


def test_the_hooks_request_is_built_from_its_connection():
    assert (
        REFRESH
        == TokenRequest.refresh(SETTINGS)
        == TokenRequest(
            REFRESH_TOKEN_GRANT,
            "https://accounts.zoho.eu",
            "eu",
            ("client-secret-9b2e", "1000.refresh-token-5c1a"),
            "zoho_eu",
        )
    )
    assert "1000.refresh-token-5c1a" not in repr(REFRESH)


@GRANTS
@pytest.mark.parametrize("status", [200, 400], ids=["http-200", "http-400"])
@pytest.mark.parametrize("code", ["Access Denied", "access_denied", "ACCESS DENIED"], ids=repr)
def test_a_throttle_is_a_rate_limit_error_for_both_grants(request_, status, code):
    body = {"error": code, "error_description": "You have made too many requests continuously."}
    error = token_endpoint_error(body, status, f"{EU_TOKEN}?code=x", request_)
    assert type(error) is ZohoRateLimitError
    assert error.message.startswith("Zoho throttled token creation: ")
    assert "(You have made too many requests continuously.)" in error.message
    assert (error.status_code, error.code, error.url) == (status, code, EU_TOKEN)


@GRANTS
@pytest.mark.parametrize(
    ("code", "what"),
    [("invalid_client", "this client id and secret"), ("invalid_client_secret", "this client secret")],
)
def test_an_unknown_client_names_the_data_center_for_both_grants(request_, code, what):
    error = token_endpoint_error({"error": code}, 200, EU_TOKEN, request_)
    assert type(error) is ZohoAuthError
    assert error.message.startswith(
        f"Zoho Accounts at https://accounts.zoho.eu (data center 'eu') does not know {what}. The usual cause "
        "is a wrong data center: a client registered at accounts.zoho.eu is unknown to accounts.zoho.com. "
    )
    follow_up = "connection's data_center" if request_ is REFRESH else "grant code is probably still unused"
    assert follow_up in error.message


def test_invalid_code_rejects_the_grant_that_was_sent():
    refresh = token_endpoint_error({"error": "invalid_code"}, 200, EU_TOKEN, REFRESH)
    assert refresh.message.startswith(
        "Zoho rejected the refresh token of connection 'zoho_eu': it was revoked"
    )
    assert "auth exchange" in refresh.message
    exchange = token_endpoint_error({"error": "invalid_code"}, 200, EU_TOKEN, EXCHANGE)
    assert exchange.message.startswith("Zoho rejected the grant code: it expired")
    assert "another data center than 'eu' (https://accounts.zoho.eu)" in exchange.message
    assert {type(refresh), type(exchange)} == {ZohoAuthError}


@pytest.mark.parametrize(
    ("request_", "body", "message"),
    [
        (
            REFRESH,
            {"error": "invalid_request"},
            "Zoho Accounts refused to issue an access token: invalid_request",
        ),
        (
            REFRESH,
            {"token_type": "Bearer"},
            "Zoho Accounts refused to issue an access token: no access_token",
        ),
        (
            EXCHANGE,
            {"error": "invalid_request", "error_description": "code missing"},
            "Zoho Accounts refused the grant code exchange: code missing",
        ),
        (
            EXCHANGE,
            {"access_token": "x"},
            "Zoho Accounts refused the grant code exchange: it issued no refresh",
        ),
    ],
    ids=["refresh-other", "refresh-no-token", "code-other", "code-no-token"],
)
def test_other_answers_say_what_was_refused(request_, body, message):
    error = token_endpoint_error(body, 200, EU_TOKEN, request_)
    assert type(error) is ZohoAuthError
    assert error.message.startswith(message)


@GRANTS
def test_hints_are_appended_by_zoho_error_code(request_):
    hints = {"invalid_client": "Pass --data-center.", "access denied": "Wait a few minutes."}
    unknown = token_endpoint_error({"error": "invalid_client"}, 200, EU_TOKEN, request_, hints=hints)
    assert unknown.message.endswith(" Pass --data-center.")
    throttled = token_endpoint_error({"error": "Access Denied"}, 400, EU_TOKEN, request_, hints=hints)
    assert throttled.message.endswith(". Wait a few minutes.")
    other = token_endpoint_error({"error": "invalid_code"}, 200, EU_TOKEN, request_, hints=hints)
    assert "Pass --data-center" not in other.message
    assert "Wait a few minutes" not in other.message
    assert token_endpoint_error({}, 200, EU_TOKEN, request_, hints=hints).message == (
        token_endpoint_error({}, 200, EU_TOKEN, request_).message
    )


SECRET_TEXT = st.sampled_from(["client-secret-9b2e", "1000.refresh-token-5c1a", GRANT_CODE])


@settings(max_examples=300)
@given(
    body=st.one_of(
        JSON,
        st.fixed_dictionaries(
            {},
            optional={
                "error": st.one_of(
                    JSON,
                    st.sampled_from(
                        ["invalid_client", "invalid_code", "Access Denied", "invalid_client_secret"]
                    ),
                    SECRET_TEXT.map(lambda s: f"bad {s}"),
                ),
                "error_description": st.one_of(JSON, SECRET_TEXT.map(lambda s: f"echo {s} echo")),
            },
        ),
    ),
    status=st.sampled_from([200, 400, 401]),
    request_=st.sampled_from([REFRESH, EXCHANGE]),
)
def test_any_answer_gives_a_zoho_error_without_the_requests_secrets(body, status, request_):
    error = token_endpoint_error(body, status, f"{EU_TOKEN}?secret=1", request_)
    assert isinstance(error, (ZohoAuthError, ZohoRateLimitError))
    assert error.url == EU_TOKEN
    for secret in request_.secrets:
        assert secret not in str(error)
