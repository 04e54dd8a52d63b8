from __future__ import annotations

import json
import math
import pickle
import types

import httpx
import msgspec
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
from airflow_provider_zoho.hooks import zoho, zoho_http
from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings
from airflow_provider_zoho.hooks.zoho_http import (
    AUTHORIZATION_CODE_GRANT,
    MALFORMED_RESPONSE,
    REFRESH_TOKEN_GRANT,
    UNREACHABLE,
    TokenRequest,
    api_error,
    decode_envelope,
    decode_json,
    is_transient,
    log_retry,
    parse_retry_after,
    rejected_token_error,
    retry_wait_seconds,
    scrub,
    should_retry,
    strip_query,
    token_endpoint_error,
    token_lifetime,
    unreachable_error,
    zoho_error_code,
)
from tests.unit.conftest import (
    API,
)
from tests.unit.hooks.test_token_cache import JSON

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


FINAL = frozenset({"THRESHOLD_EXCEEDED"})


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (ZohoRateLimitError("credits", status_code=429, code="THRESHOLD_EXCEEDED"), False),
        (ZohoRateLimitError("concurrency", status_code=429, code="TOO_MANY_REQUESTS"), True),
        (ZohoRateLimitError("no code", status_code=429), True),
        (ZohoAPIError("x", status_code=503, code="THRESHOLD_EXCEEDED"), False),  # the code decides
        (ZohoAPIError("x", status_code=500, code="INTERNAL_SERVER_ERROR"), True),
        (ZohoAPIError("x", status_code=422, code="UNPROCESSABLE_ENTITY"), False),
        (requests.ConnectionError(), True),
    ],
    ids=lambda v: getattr(v, "code", None) or type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_a_product_names_the_error_codes_no_retry_can_fix(error, retry):
    assert should_retry(error, FINAL) is retry
    assert is_transient(error, FINAL) is retry  # a sensor's "not yet" follows the same rule
    # Without the product's word, a 429 or 5xx is retried whatever its code.
    assert should_retry(error) is (retry or getattr(error, "code", None) == "THRESHOLD_EXCEEDED")


def test_unreachable_is_transient_but_not_retried_again():
    error = ZohoAPIError("gone", code=UNREACHABLE)
    assert (should_retry(error, FINAL), is_transient(error, FINAL)) == (False, True)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"errorCode": "THRESHOLD_EXCEEDED", "message": "credits"}, "THRESHOLD_EXCEEDED"),  # Zoho Desk
        ({"error": "invalid_code"}, "invalid_code"),
        ({"error": {"code": "URL_NOT_FOUND"}}, "URL_NOT_FOUND"),
        ({"code": 7003}, "7003"),
        ({"error": "x", "errorCode": "y"}, "x"),
        ({"message": "no code"}, None),
        (["errorCode"], None),
        (None, None),
    ],
)
def test_zoho_error_code_reads_every_shape(body, code):
    assert zoho_error_code(body) == code


def test_an_error_code_hint_wins_over_the_status_hint():
    hints = {403: "check the ids"}
    codes = {"OAUTH_ORG_MISMATCH": "the token is not valid for this organization"}
    mismatch = api_error(
        "call failed",
        status=403,
        body={"errorCode": "OAUTH_ORG_MISMATCH"},
        url="https://h/p",
        hints=hints,
        code_hints=codes,
    )
    other = api_error(
        "call failed",
        status=403,
        body={"errorCode": "FORBIDDEN"},
        url="https://h/p",
        hints=hints,
        code_hints=codes,
    )
    assert mismatch.message == "call failed: the token is not valid for this organization"
    assert other.message == "call failed: check the ids"


def test_a_429_with_a_code_hint_stays_a_rate_limit_error_and_keeps_retry_after():
    error = api_error(
        "call failed",
        status=429,
        body={"errorCode": "THRESHOLD_EXCEEDED"},
        url="https://h/p?orgId=1",
        retry_after="3600",
        code_hints={"THRESHOLD_EXCEEDED": "the daily credits are spent"},
    )
    assert type(error) is ZohoRateLimitError
    assert (error.message, error.code, error.retry_after, error.url) == (
        "call failed: the daily credits are spent",
        "THRESHOLD_EXCEEDED",
        3600.0,
        "https://h/p",
    )
    plain = api_error("call failed", status=429, body={"errorCode": "TOO_MANY_REQUESTS"}, url="https://h/p")
    assert plain.message == "call failed: Zoho's rate limit was hit"


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
        ("0.5", 0.5),
        ("-5", 0.0),  # a negative delay means no wait
        ("Wed, 21 Oct 2015 07:27:30 GMT", 0.0),  # a date in the past: no wait
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


def test_strip_query_drops_userinfo_holding_an_at_sign():
    # An unencoded "@" in a password: only what follows the last "@" is the host.
    assert (
        strip_query("https://user@corp:p@ss@accounts.zoho.eu/oauth/v2/token")
        == "https://accounts.zoho.eu/oauth/v2/token"
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


def test_parse_retry_after_counts_an_http_date_from_now(monkeypatch):
    monkeypatch.setattr(zoho_http, "time", types.SimpleNamespace(time=lambda: 1445412480.0))
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT") == 30.0


def test_retry_wait_seconds_without_jitter_is_the_whole_delay():
    assert [retry_wait_seconds(attempt) for attempt in (1, 2, 3, 6, 7)] == [1.0, 2.0, 4.0, 30.0, 30.0]


def test_an_error_status_without_a_hint_says_zoho_answered_with_an_error():
    error = api_error("Zoho API call failed", status=418, body=None, url="https://h/p", hints={400: "bad"})
    assert str(error).startswith("Zoho API call failed: Zoho answered with an error")
    assert error.code is None


class FakeResponse:
    """The parts of an HTTP response the rules read (requests and httpx responses both have them)."""

    def __init__(self, status_code: int, content: bytes = b"", url: str | None = API + "?key=secret") -> None:
        self.status_code = status_code
        self.content = content
        self.headers: dict[str, str] = {}
        self.url = url

    def json(self):
        return json.loads(self.content)


def test_a_204_is_no_data_whatever_bytes_follow_it():
    assert decode_json(FakeResponse(204, b"stray bytes")) is None


def test_a_malformed_body_is_a_retried_error_naming_the_call():
    with pytest.raises(ZohoAPIError) as error:
        decode_json(FakeResponse(200, b'{"data": [1, 2'))
    assert str(error.value).startswith("Zoho answered with a body that is not valid JSON")
    assert (error.value.status_code, error.value.code, error.value.url) == (200, MALFORMED_RESPONSE, API)
    assert should_retry(error.value)


def test_a_body_that_is_not_utf8_is_a_malformed_body_not_a_unicode_error():
    with pytest.raises(ZohoAPIError) as error:
        decode_json(FakeResponse(200, b'{"data": [{"os": "\xff"}]}'))
    assert (error.value.code, error.value.url) == (MALFORMED_RESPONSE, API)


def test_the_envelope_decodes_objects_and_scalars_and_leaves_array_items_encoded():
    body = b'{"data": {"result": {"iOS": [{"a": 1}, [2, 3]], "n": 4}}, "status": "ok", "x": [null]}'
    envelope = decode_envelope(FakeResponse(200, body))
    rows = envelope["data"]["result"].pop("iOS")
    assert envelope == {"data": {"result": {"n": 4}}, "status": "ok", "x": [msgspec.Raw(b"null")]}
    assert [bytes(row) for row in rows] == [b'{"a": 1}', b"[2, 3]"]


def test_the_envelope_decodes_six_object_levels_then_the_rest_whole():
    # The rows of the deepest envelope Apptics sends sit in the fifth object: they stay encoded.
    fifth = decode_envelope(FakeResponse(200, b'{"1": {"2": {"3": {"4": {"5": [1]}}}}}'))
    assert fifth["1"]["2"]["3"]["4"]["5"] == [msgspec.Raw(b"1")]
    # What a sixth object holds is decoded whole.
    deep = {"1": {"2": {"3": {"4": {"5": {"6": [{"a": 1}]}}}}}}
    assert decode_envelope(FakeResponse(200, json.dumps(deep).encode())) == deep


@pytest.mark.parametrize(
    ("status", "body"), [(204, b"[1]"), (200, b""), (200, b" \n")], ids=["204", "empty", "blank"]
)
def test_an_empty_answer_has_no_envelope(status, body):
    assert decode_envelope(FakeResponse(status, body)) is None


@pytest.mark.parametrize(
    "body",
    [b'{"data": [{"a": 1}, {"a"', b'{"data": [{"a": tru}]}', b"[1] x", b"<html>"],
    ids=["truncated", "bad-literal-in-a-row", "trailing", "html"],
)
def test_an_envelope_of_a_malformed_body_is_a_retried_error(body):
    with pytest.raises(ZohoAPIError) as error:
        decode_envelope(FakeResponse(200, body))
    assert str(error.value).startswith("Zoho answered with a body that is not valid JSON")
    assert (error.value.status_code, error.value.code, error.value.url) == (200, MALFORMED_RESPONSE, API)
    assert should_retry(error.value)


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=6)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=15,
))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_the_envelope_decoded_further_is_the_whole_body(value):
    body = json.dumps(value).encode()
    envelope = decode_envelope(FakeResponse(200, body))

    def whole(node):
        if isinstance(node, msgspec.Raw):
            return msgspec.json.decode(node)
        if isinstance(node, list):
            return [whole(item) for item in node]
        if isinstance(node, dict):
            return {key: whole(item) for key, item in node.items()}
        return node

    assert whole(envelope) == decode_json(FakeResponse(200, body))


def test_a_malformed_body_of_a_response_without_url_names_no_url():
    with pytest.raises(ZohoAPIError) as error:
        decode_json(FakeResponse(200, b"<html>", url=None))
    assert not error.value.url


def test_a_second_401_names_the_url_without_its_query():
    error = rejected_token_error(
        FakeResponse(401, b'{"code": "INVALID_TOKEN"}'), API + "?key=x", "scope.A", ()
    )
    assert (error.status_code, error.code, error.url) == (401, "INVALID_TOKEN", API)
    assert "scope.A" in str(error)


# -- never reached: the error names how it failed and where ---------------------------------------------


def test_unreachable_after_connection_failures_names_the_url_without_its_query():
    failed = requests.ConnectionError(
        "refused", request=requests.Request("GET", API + "?key=secret").prepare()
    )
    error = unreachable_error(failed, 3)
    assert str(error).startswith("Could not reach Zoho after 3 attempts: the connection failed every time")
    assert (error.code, error.url) == (UNREACHABLE, API)
    assert is_transient(error)


def test_unreachable_after_timeouts_says_they_timed_out():
    timeout = requests.ReadTimeout("slow", request=requests.Request("GET", API).prepare())
    error = unreachable_error(timeout, 6)
    assert str(error).startswith("Could not reach Zoho after 6 attempts: the connection timed out every time")
    assert error.url == API


def test_unreachable_without_a_request_names_no_url():
    error = unreachable_error(requests.ConnectionError("refused"), 2)
    assert (error.code, error.url) == (UNREACHABLE, None)


@pytest.mark.parametrize(
    ("error", "how"),
    [
        (httpx.ConnectTimeout("slow", request=httpx.Request("GET", API + "?key=secret")), "timed out"),
        (httpx.ConnectError("refused", request=httpx.Request("GET", API + "?key=secret")), "failed"),
    ],
    ids=["timeout", "refused"],
)
def test_unreachable_over_httpx_says_how_it_failed(error, how):
    unreachable = unreachable_error(error, 6)
    assert str(unreachable).startswith(
        f"Could not reach Zoho after 6 attempts: the connection {how} every time"
    )
    assert (unreachable.code, unreachable.url) == (UNREACHABLE, API)


def test_unreachable_over_httpx_before_a_request_existed_names_no_url():
    error = unreachable_error(httpx.ConnectTimeout("no request yet"), 6)  # its .request raises RuntimeError
    assert (error.code, error.url) == (UNREACHABLE, None)
    assert "timed out every time" in str(error)


# -- the retry log line --------------------------------------------------------------------------------------


def retry_state(attempt: int, error: BaseException, sleep: float):
    import tenacity

    state = tenacity.RetryCallState(retry_object=tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.outcome = tenacity.Future.construct(attempt, error, True)
    state.next_action = tenacity.RetryAction(sleep)
    return state


def test_a_retry_is_logged_with_the_error_the_attempt_and_the_wait(caplog):
    error = ZohoAPIError("Zoho API call failed: overloaded", status_code=503)
    with caplog.at_level("WARNING", logger=zoho_http.log.name):
        log_retry(retry_state(2, error, 4.0))
    assert [record.getMessage() for record in caplog.records] == [
        f"Zoho call failed ({error}); attempt 2, retrying in 4.0 s."
    ]


@GRANTS
def test_a_throttle_without_description_still_says_access_denied(request_):
    error = token_endpoint_error({"error": "access_denied"}, 400, EU_TOKEN, request_)
    assert type(error) is ZohoRateLimitError
    assert error.message.endswith("(Access Denied).")  # no hint was given: nothing is appended


@GRANTS
def test_without_a_hint_nothing_is_appended(request_):
    error = token_endpoint_error(
        {"error": "invalid_scope", "error_description": "Nope."}, 200, EU_TOKEN, request_
    )
    assert error.message.endswith(": Nope.")


def test_a_token_answer_without_lifetime_lasts_the_documented_hour_and_says_so(caplog):
    with caplog.at_level("WARNING", logger=zoho_http.log.name):
        assert token_lifetime({"access_token": "t"}) == 3600.0
    assert [record.getMessage() for record in caplog.records] == [
        "Zoho's token answer has no expires_in; assuming the documented 3600 s."
    ]


@pytest.mark.parametrize("seconds", [1, 0.5, "1"], ids=repr)
def test_any_positive_lifetime_is_accepted(seconds):
    assert token_lifetime({"expires_in": seconds}) == float(seconds)


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ({"expires_in": "soon"}, "expires_in is not a positive number of seconds (got a str)"),
        ({"expires_in": 0}, "expires_in is not a positive number of seconds (got a int)"),
        ({"expires_in_sec": True}, "expires_in_sec is not a positive number of seconds (got a bool)"),
    ],
    ids=["text", "zero", "boolean"],
)
def test_an_unusable_lifetime_says_which_field_and_what_it_got(body, what):
    with pytest.raises(ZohoAPIError) as error:
        token_lifetime(body, 200, EU_TOKEN + "?refresh_token=x")
    assert what in str(error.value)
    assert (error.value.status_code, error.value.url) == (200, EU_TOKEN)


def test_an_unusable_lifetime_is_not_a_credentials_problem():
    with pytest.raises(ZohoAPIError) as error:
        token_lifetime({"expires_in": -1}, 200, EU_TOKEN)
    assert error.value.message == (
        "Zoho Accounts' token answer is unusable: expires_in is not a positive number of seconds (got a "
        "int). This is not a credentials problem; if it persists, Zoho (or a proxy in front of it) answers "
        "in an unexpected format."
    )


def test_an_unusable_lifetime_of_an_unnamed_answer_is_a_200_from_no_url():
    with pytest.raises(ZohoAPIError) as error:
        token_lifetime({"expires_in": "soon"})
    assert error.value.status_code == 200
    assert not error.value.url
