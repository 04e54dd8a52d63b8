from __future__ import annotations

import time

import pytest

from airflow_provider_zoho.sandbox.accounts import THROTTLE_BODY, TokenAuthority

CLIENT, SECRET, REFRESH = "1000.C", "s3cret", "1000.refresh"
THROTTLE_TEXT = "You have made too many requests continuously. Please try again after some time."


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def authority(**kwargs) -> tuple[TokenAuthority, FakeClock]:
    clock = FakeClock()
    return TokenAuthority(CLIENT, SECRET, REFRESH, clock=clock, **kwargs), clock


def refresh(auth: TokenAuthority, token: str = REFRESH, **overrides: str):
    params = {
        "grant_type": "refresh_token",
        "client_id": CLIENT,
        "client_secret": SECRET,
        "refresh_token": token,
        **overrides,
    }
    return auth.token(params)


# ---------------------------------------------------------------------- unit (fake clock)
class TestTokenAuthority:
    def test_success_body(self):
        auth, _ = authority(token_ttl=1234)
        answer = refresh(auth)
        assert answer.status == 200
        body = answer.body
        assert list(body) == ["access_token", "api_domain", "token_type", "expires_in"]
        assert body["expires_in"] == 1234
        assert body["token_type"] == "Bearer"
        assert body["api_domain"] == "https://www.zohoapis.com"
        prefix, first, second = body["access_token"].split(".")
        assert prefix == "1000"
        assert len(first) == 32
        assert len(second) == 32
        int(first, 16), int(second, 16)
        assert auth.is_live(body["access_token"])

    def test_tokens_are_unpredictable(self):
        auth, _ = authority()
        assert refresh(auth).body["access_token"] != refresh(auth).body["access_token"]

    def test_sliding_window(self):
        auth, clock = authority(mint_limit=3, mint_window=60)
        for _ in range(3):
            assert refresh(auth).status == 200
            clock.now += 10  # mints at 1000, 1010, 1020
        assert refresh(auth).status == 400  # at 1030 three mints are in the window
        clock.now = 1059.9
        assert refresh(auth).status == 400
        clock.now = 1060.0  # the first mint has left the window
        assert refresh(auth).status == 200
        assert refresh(auth).status == 400
        stats = auth.stats()
        assert stats["mints"] == 4
        assert stats["throttled"] == 3

    def test_throttled_attempts_do_not_count(self):
        auth, clock = authority(mint_limit=1, mint_window=100)
        assert refresh(auth).status == 200
        for _ in range(20):
            clock.now += 4
            assert refresh(auth).status == 400
        clock.now = 1100.0  # 100 s after the only mint, although throttled calls kept coming
        assert refresh(auth).status == 200

    def test_throttle_is_per_refresh_token(self):
        auth, _ = authority(mint_limit=1)
        code = auth.issue_grant_code()["code"]
        other = auth.token(
            {"grant_type": "authorization_code", "client_id": CLIENT, "client_secret": SECRET, "code": code}
        ).body["refresh_token"]
        assert refresh(auth).status == 200
        assert refresh(auth).status == 400
        # the code exchange was the other token's one mint
        assert refresh(auth, other).status == 400
        assert auth.stats()["mints_by_refresh_token"] == {"configured": 1, "issued-1": 1}

    def test_expiry(self):
        auth, clock = authority(token_ttl=10)
        token = refresh(auth).body["access_token"]
        clock.now += 9.9
        assert auth.is_live(token)
        clock.now += 0.1
        assert not auth.is_live(token)
        assert auth.stats()["live_tokens"] == 0

    def test_live_token_cap_evicts_oldest(self):
        auth, _ = authority(max_live_tokens=3, mint_limit=100)
        tokens = [refresh(auth).body["access_token"] for _ in range(4)]
        assert [auth.is_live(t) for t in tokens] == [False, True, True, True]
        assert auth.stats()["access_tokens_evicted"] == 1

    def test_refresh_token_cap_evicts_oldest(self):
        auth, _ = authority(max_refresh_tokens=2)
        for _ in range(2):
            code = auth.issue_grant_code()["code"]
            assert (
                auth.token(
                    {
                        "grant_type": "authorization_code",
                        "client_id": CLIENT,
                        "client_secret": SECRET,
                        "code": code,
                    }
                ).status
                == 200
            )
        assert refresh(auth).body == {"error": "invalid_code"}  # the configured one was the oldest
        assert auth.stats()["refresh_tokens_evicted"] == 1

    def test_grant_code_expiry(self):
        auth, clock = authority()
        code = auth.issue_grant_code()["code"]
        clock.now += 180
        answer = auth.token(
            {"grant_type": "authorization_code", "client_id": CLIENT, "client_secret": SECRET, "code": code}
        )
        assert (answer.status, answer.body) == (200, {"error": "invalid_code"})

    def test_reset_restores_configured_token(self):
        auth, _ = authority()
        assert auth.revoke(REFRESH).status == 200
        assert refresh(auth).body == {"error": "invalid_code"}
        auth.reset()
        assert refresh(auth).status == 200
        assert auth.stats()["mints"] == 1

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            (
                {"grant_type": "refresh_token", "client_id": CLIENT, "client_secret": SECRET},
                "invalid_request",
            ),
            ({"client_id": CLIENT}, "invalid_request"),
            ({"grant_type": "password", "client_id": CLIENT}, "unsupported_grant_type"),
            (
                {"grant_type": "authorization_code", "client_id": CLIENT, "client_secret": SECRET},
                "invalid_request",
            ),
        ],
        ids=["no-refresh-token", "no-grant-type", "unknown-grant-type", "no-code"],
    )
    def test_request_errors(self, params, error):
        auth, _ = authority()
        answer = auth.token(params)
        assert (answer.status, answer.body) == (200, {"error": error})


# ---------------------------------------------------------------------- HTTP
THROTTLE_OPTIONS = {"mint_limit": 10, "mint_window": 1.0}


@pytest.mark.zoho_sandbox(**THROTTLE_OPTIONS)
def test_mint_throttle_over_http(client):
    for _ in range(10):
        assert client.refresh().status_code == 200
    denied = client.refresh()
    assert denied.status_code == 400
    assert denied.json() == {
        "error_description": THROTTLE_TEXT,
        "error": "Access Denied",
        "status": "failure",
    }
    assert denied.json() == THROTTLE_BODY
    stats = client.stats()
    assert stats["mints"] == 10
    assert stats["throttled"] == 1
    assert stats["token_requests"] == 11
    assert stats["mints_by_refresh_token"] == {"configured": 10}
    time.sleep(1.05)  # the sliding window has moved on
    assert client.refresh().status_code == 200


@pytest.mark.zoho_sandbox(mint_limit=2, throttle_status=200)
def test_throttle_status_200(client):
    client.mint()
    client.mint()
    denied = client.refresh()
    assert denied.status_code == 200
    assert denied.json()["error"] == "Access Denied"


@pytest.mark.zoho_sandbox(mint_limit=100)
def test_fifteen_live_tokens_oldest_revoked(client):
    tokens = [client.mint() for _ in range(16)]
    oldest = client.resource("projects", token=tokens[0])
    assert oldest.status_code == 401
    assert oldest.json()["error"]["code"] == "INVALID_OAUTHTOKEN"
    assert oldest.json()["status"] == "failure"
    for token in tokens[1:]:
        assert client.resource("projects", token=token).status_code == 200
    assert client.stats()["live_tokens"] == 15


def test_invalid_client_and_code_at_http_200(client):
    unknown = client.refresh(client_id="1000.NOPE")
    assert (unknown.status_code, unknown.json()) == (200, {"error": "invalid_client"})
    wrong_secret = client.refresh(client_secret="wrong")
    assert (wrong_secret.status_code, wrong_secret.json()) == (200, {"error": "invalid_client"})
    bad_refresh = client.refresh("1000.not.a-token")
    assert (bad_refresh.status_code, bad_refresh.json()) == (200, {"error": "invalid_code"})
    missing = client.token_request(grant_type="refresh_token", client_id=client.sandbox.client_id)
    assert (missing.status_code, missing.json()) == (200, {"error": "invalid_request"})
    stats = client.stats()
    assert stats["mints"] == 0
    assert stats["token_errors"] == {"invalid_client": 2, "invalid_code": 1, "invalid_request": 1}


def test_parameters_in_query_string(client):
    sandbox = client.sandbox
    response = client.session.post(
        f"{client.url}/oauth/v2/token",
        params={
            "grant_type": "refresh_token",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "refresh_token": sandbox.refresh_token,
        },
    )
    assert response.status_code == 200
    assert "access_token" in response.json()


def test_grant_code_single_use(client):
    sandbox = client.sandbox
    granted = client.control("POST", "grant", {"scope": "JProxy.jmobileapi.ALL"}).json()
    assert granted["expires_in"] == 180
    assert granted["code"].startswith("1000.")
    params = {
        "grant_type": "authorization_code",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "code": granted["code"],
    }
    first = client.token_request(**params)
    assert first.status_code == 200
    body = first.json()
    assert list(body) == ["access_token", "refresh_token", "api_domain", "token_type", "expires_in"]
    assert body["refresh_token"] != sandbox.refresh_token
    again = client.token_request(**params)
    assert (again.status_code, again.json()) == (200, {"error": "invalid_code"})
    # the new refresh token works, and its first access token counted as one of its mints
    assert client.refresh(body["refresh_token"]).status_code == 200
    assert client.resource("projects", token=body["access_token"]).status_code == 200
    assert client.stats()["mints_by_refresh_token"] == {"issued-1": 2}


def test_grant_code_expiry_and_in_process_code(client):
    sandbox = client.sandbox
    code = sandbox.issue_grant_code(expires_in=0.2)
    unknown = client.token_request(
        grant_type="authorization_code",
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        code="1000.abc.def",
    )
    assert unknown.json() == {"error": "invalid_code"}
    time.sleep(0.25)
    expired = client.token_request(
        grant_type="authorization_code",
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        code=code,
    )
    assert (expired.status_code, expired.json()) == (200, {"error": "invalid_code"})


def test_revoke(client):
    access = client.mint()
    revoke = client.session.post(f"{client.url}/oauth/v2/token/revoke", params={"token": access})
    assert (revoke.status_code, revoke.json()) == (200, {"status": "success"})
    assert client.resource("projects", token=access).status_code == 401
    again = client.session.post(f"{client.url}/oauth/v2/token/revoke", params={"token": access})
    assert (again.status_code, again.json()) == (400, {"status": "failure", "error": "invalid_token"})

    second = client.mint()
    revoke_refresh = client.session.post(
        f"{client.url}/oauth/v2/token/revoke", params={"token": client.sandbox.refresh_token}
    )
    assert revoke_refresh.json() == {"status": "success"}
    assert client.resource("projects", token=second).status_code == 401  # its access tokens went too
    assert client.refresh().json() == {"error": "invalid_code"}
    client.sandbox.reset()
    assert client.refresh().status_code == 200


@pytest.mark.zoho_sandbox(legacy_expiry=True, token_ttl=120)
def test_legacy_expiry_format(client):
    body = client.refresh().json()
    assert body["expires_in"] == 120_000
    assert body["expires_in_sec"] == 120


@pytest.mark.zoho_sandbox(token_ttl=0.3)
def test_access_token_expires(client):
    token = client.mint()
    assert client.resource("projects", token=token).status_code == 200
    time.sleep(0.35)
    assert client.resource("projects", token=token).status_code == 401
    assert client.stats()["live_tokens"] == 0
