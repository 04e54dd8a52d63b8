"""``auth exchange``: a grant code for a refresh token, the options checked by the connection's rules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from urllib.parse import parse_qsl

import pytest
import requests

from airflow_provider_zoho.cli import auth_exchange
from tests.unit.cli.conftest import (
    ACCESS,
    CODE,
    EU_TOKEN_URL,
    NEW_REFRESH,
    SECRET,
    option,
    printed_command,
    run,
)
from tests.unit.conftest import CLIENT_ID

CREDENTIALS = ["--client-id", CLIENT_ID, "--client-secret", SECRET]


def exchange_answer() -> dict:
    return {
        "access_token": ACCESS,
        "refresh_token": NEW_REFRESH,
        "api_domain": "https://www.zohoapis.eu",
        "token_type": "Bearer",
        "expires_in": 3600,
    }


def exchange(capsys, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "auth", "exchange", "--code", CODE, *CREDENTIALS, "--data-center", "eu", *extra)


# -- options: checked before any request --------------------------------------------------------------------


class TestOptions:
    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["--client-secret", SECRET], "missing --client-id (or set $ZOHO_CLIENT_ID)"),
            (["--client-id", CLIENT_ID], "missing --client-secret (or set $ZOHO_CLIENT_SECRET)"),
            (["--client-id", CLIENT_ID, "--client-secret", "  "], "missing --client-secret"),
            ([*CREDENTIALS, "--data-center", "mars"], "'mars'"),
            ([*CREDENTIALS, "--accounts-url", "accounts.zoho.eu"], "--accounts-url must be an http(s) URL"),
            ([*CREDENTIALS, "--apptics-url", "ftp://x"], "--apptics-url must be an http(s) URL"),
            (
                [*CREDENTIALS, "--accounts-url", "http://h/?next=1"],
                "--accounts-url must be an http(s) URL of the form http(s)://host[:port][/path]",
            ),
            ([*CREDENTIALS, "--apptics-url", "http://h:99999"], "the port is not a number from 1 to 65535"),
            (
                [*CREDENTIALS, "--portal-id", "7665\r\n"],
                "--portal-id must be a number made of the digits 0-9",
            ),
            (
                [*CREDENTIALS, "--project-id", "７８２"],
                "--project-id must be a number made of the digits 0-9",
            ),
        ],
        ids=[
            "client-id",
            "client-secret",
            "blank-secret",
            "data-center",
            "accounts-url",
            "apptics-url",
            "query",
            "port",
            "portal-id",
            "project-id",
        ],
    )
    def test_config_errors_exit_2_before_any_request(self, capsys, requests_mock, argv, message):
        code, out, err = run(capsys, "auth", "exchange", "--code", CODE, *argv)
        assert code == 2
        assert err.startswith("error: ")
        assert message in err
        assert "Traceback" not in err
        assert out == ""
        assert requests_mock.call_count == 0

    def test_url_with_user_info_is_refused_without_showing_it(self, capsys, requests_mock):
        code, out, err = exchange(capsys, "--accounts-url", "http://admin:pw-77e1@proxy:3128")
        assert code == 2
        assert "--accounts-url must be an http(s) URL" in err
        assert "user name or password" in err
        assert "pw-77e1" not in out + err
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize(
        ("value", "hint"), [("us", " Did you mean 'com'?"), ("mars", "")], ids=["us", "mars"]
    )
    def test_unknown_data_center_is_the_connections_rule_plus_a_guess(
        self, capsys, requests_mock, value, hint
    ):
        from airflow_provider_zoho.hooks.zoho_connection import DATA_CENTERS

        code, out, err = exchange(capsys, "--data-center", value)
        assert code == 2
        assert err == (
            f"error: unknown --data-center {value!r}. Use one of {', '.join(DATA_CENTERS)}: the domain of "
            f"accounts.zoho.<data center> you log in at (ca is accounts.zohocloud.ca).{hint}\n"
        )
        assert out == ""
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("EU", "eu"), (".com.au", "com.au"), (" jp ", "jp"), ("ca", "ca")],
        ids=lambda v: v,
    )
    def test_data_center_spellings(self, capsys, requests_mock, value, expected):
        from airflow_provider_zoho.hooks.zoho_connection import ACCOUNTS_HOSTS

        requests_mock.post(f"https://{ACCOUNTS_HOSTS[expected]}/oauth/v2/token", json=exchange_answer())
        code, out, err = exchange(capsys, "--data-center", value)
        assert code == 0, err
        assert json.loads(option(printed_command(out), "--conn-extra"))["data_center"] == expected

    def test_client_credentials_come_from_the_environment(self, capsys, monkeypatch, requests_mock):
        monkeypatch.setenv(auth_exchange.CLIENT_ID_ENV, "1000.FROMENV")
        monkeypatch.setenv(auth_exchange.CLIENT_SECRET_ENV, "secret-from-env")
        requests_mock.post(EU_TOKEN_URL, json=exchange_answer())
        code, out, _ = run(capsys, "auth", "exchange", "--code", CODE, "--data-center", "eu")
        assert code == 0
        form = dict(parse_qsl(requests_mock.last_request.text))
        assert (form["client_id"], form["client_secret"]) == ("1000.FROMENV", "secret-from-env")
        assert "secret-from-env" not in out
        assert option(printed_command(out), "--conn-login") == "1000.FROMENV"


# -- success -------------------------------------------------------------------------------------------------


class TestExchange:
    def test_posts_the_grant_code_to_the_data_centers_accounts_server(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, json=exchange_answer())
        code, _, _ = exchange(capsys)
        assert code == 0
        assert requests_mock.call_count == 1
        request = requests_mock.last_request
        assert request.url == EU_TOKEN_URL
        assert request.qs == {}  # secrets travel in the body, not the URL
        assert dict(parse_qsl(request.text)) == {
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "code": CODE,
        }
        assert request.timeout == auth_exchange.EXCHANGE_TIMEOUT

    @pytest.mark.parametrize(
        ("data_center", "url"),
        [("ca", "https://accounts.zohocloud.ca"), ("com.cn", "https://accounts.zoho.com.cn")],
        ids=["ca", "com.cn"],
    )
    def test_other_data_centers(self, capsys, requests_mock, data_center, url):
        requests_mock.post(f"{url}/oauth/v2/token", json=exchange_answer())
        code, out, _ = exchange(capsys, "--data-center", data_center)
        assert code == 0
        extras = json.loads(option(printed_command(out), "--conn-extra"))
        assert extras["data_center"] == data_center
        assert "accounts_url" not in extras  # derived from the data center, not stored

    def test_accounts_url_overrides_the_host_and_is_stored(self, capsys, requests_mock):
        requests_mock.post("http://127.0.0.1:9/oauth/v2/token", json=exchange_answer())
        code, out, _ = exchange(capsys, "--accounts-url", "http://127.0.0.1:9/")
        assert code == 0
        assert requests_mock.last_request.url == "http://127.0.0.1:9/oauth/v2/token"
        assert (
            json.loads(option(printed_command(out), "--conn-extra"))["accounts_url"] == "http://127.0.0.1:9"
        )

    def test_secrets_are_placeholders_and_the_refresh_token_is_printed_once(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, json=exchange_answer())
        code, out, err = exchange(capsys)
        assert code == 0
        assert err == ""
        assert out.count(NEW_REFRESH) == 1
        labelled = out.splitlines()[
            out.splitlines().index(next(li for li in out.splitlines() if NEW_REFRESH in li)) - 1
        ]
        assert labelled.startswith("Refresh token (store it now")
        assert SECRET not in out
        assert ACCESS not in out
        argv = printed_command(out)
        assert argv[:4] == ["airflow", "connections", "add", "zoho_default"]
        assert option(argv, "--conn-type") == "zoho"
        assert option(argv, "--conn-login") == CLIENT_ID
        assert option(argv, "--conn-password") == "<client secret>"
        assert json.loads(option(argv, "--conn-extra")) == {
            "refresh_token": "<refresh token>",
            "data_center": "eu",
        }
        assert "--conn-password '<client secret>'" in out  # quoted for the shell
        assert "'<refresh token>'  the refresh token above" in out

    def test_show_secrets_puts_the_real_values_in_the_command_but_never_the_access_token(
        self, capsys, requests_mock
    ):
        requests_mock.post(EU_TOKEN_URL, json=exchange_answer())
        code, out, _ = exchange(capsys, "--show-secrets", "--conn-id", "zoho_eu", "--portal-id", "766556673")
        assert code == 0
        argv = printed_command(out)
        assert argv[3] == "zoho_eu"
        assert option(argv, "--conn-password") == SECRET
        assert json.loads(option(argv, "--conn-extra")) == {
            "refresh_token": NEW_REFRESH,
            "data_center": "eu",
            "portal_id": "766556673",
        }
        assert "<client secret>" not in out
        assert "<refresh token>" not in out
        assert "shell history" in out
        assert ACCESS not in out

    def test_all_extras_and_the_apptics_hint(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, json=exchange_answer())
        _, without_ids, _ = exchange(capsys)
        assert '"portal_id" and "project_id"' in without_ids
        code, out, _ = exchange(
            capsys, "--portal-id", "1", "--project-id", "2", "--apptics-url", "https://apptics.example.test/"
        )
        assert code == 0
        assert json.loads(option(printed_command(out), "--conn-extra")) == {
            "refresh_token": "<refresh token>",
            "data_center": "eu",
            "portal_id": "1",
            "project_id": "2",
            "apptics_url": "https://apptics.example.test",
        }
        assert '"portal_id" and "project_id"' not in out
        assert "auth check --conn-id zoho_default" in out

    def test_awkward_values_survive_a_real_shell(self, capsys, requests_mock, tmp_path):
        bash = shutil.which("bash")
        if bash is None:
            pytest.skip("bash is not installed")
        secret = 'it\'s a $HOME `secret` "quoted" \\ ; rm -rf /'
        conn_id = "zoho eu's"
        refresh = "1000.it's $(odd)"  # lands inside the --conn-extra JSON
        requests_mock.post(EU_TOKEN_URL, json={**exchange_answer(), "refresh_token": refresh})
        code, out, _ = run(
            capsys,
            "auth",
            "exchange",
            "--code",
            CODE,
            "--client-id",
            "1000.ID WITH SPACE",
            "--client-secret",
            secret,
            "--data-center",
            "eu",
            "--conn-id",
            conn_id,
            "--show-secrets",
        )
        assert code == 0
        start = out.index("airflow connections add")
        command = out[start : out.index("\n\n", start)]
        # A stand-in `airflow` prints each argument it receives, NUL-terminated.
        fake = tmp_path / "airflow"
        fake.write_text("#!/bin/sh\nprintf '%s\\0' \"$@\"\n")
        fake.chmod(0o755)
        result = subprocess.run(
            [bash, "-c", command],
            capture_output=True,
            env={"PATH": f"{tmp_path}{os.pathsep}/usr/bin:/bin", "HOME": "/nonexistent"},
            timeout=30,
            check=True,
        )
        argv = result.stdout.decode().split("\0")[:-1]
        assert argv[:3] == ["connections", "add", conn_id]
        assert option(argv, "--conn-login") == "1000.ID WITH SPACE"
        assert option(argv, "--conn-password") == secret
        assert json.loads(option(argv, "--conn-extra"))["refresh_token"] == refresh

    def test_exchange_result_repr_hides_the_refresh_token(self):
        result = auth_exchange.ExchangeResult(NEW_REFRESH, "https://www.zohoapis.eu", None, EU_TOKEN_URL)
        assert NEW_REFRESH not in repr(result)


# -- auth exchange: Zoho's refusals --------------------------------------------------------------------------


class TestExchangeErrors:
    def assert_clean_failure(self, code: int, out: str, err: str) -> None:
        assert code == 1
        assert out == ""  # no half-printed command
        assert err.startswith("error: ")
        assert err.count("\n") == 1
        assert "Traceback" not in err
        assert SECRET not in err
        assert CODE not in err

    def test_expired_or_reused_code(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, json={"error": "invalid_code"})  # Zoho answers HTTP 200
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        for words in ("expired", "3 minutes", "already used", "another data center than 'eu'", "new code"):
            assert words in err
        assert "Zoho error 'invalid_code'" in err
        assert requests_mock.call_count == 1  # a used code is never retried

    def test_wrong_data_center_names_it_and_lists_the_others(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, json={"error": "invalid_client"})
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "Zoho Accounts at https://accounts.zoho.eu (data center 'eu') does not know" in err
        assert "wrong data center" in err
        others = err[err.index("Other data centers:") :]
        assert "com (accounts.zoho.com)" in others
        assert "ca (accounts.zohocloud.ca)" in others
        assert "eu (accounts.zoho.eu)" not in others
        assert "still unused" in err

    def test_wrong_accounts_url_points_at_the_override(self, capsys, requests_mock):
        requests_mock.post("http://127.0.0.1:9/oauth/v2/token", json={"error": "invalid_client"})
        code, out, err = exchange(capsys, "--accounts-url", "http://127.0.0.1:9")
        self.assert_clean_failure(code, out, err)
        assert "Zoho Accounts at http://127.0.0.1:9 (data center 'eu')" in err
        assert "--accounts-url overrides" in err
        assert "Other data centers" not in err

    def test_wrong_secret(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, json={"error": "invalid_client_secret"})
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "does not know this client secret" in err

    def test_throttled(self, capsys, requests_mock):
        body = {
            "error": "Access Denied",
            "error_description": "You have made too many requests continuously.",
        }
        requests_mock.post(EU_TOKEN_URL, status_code=400, json=body)
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "throttled" in err
        assert "too many requests" in err
        assert "HTTP 400" in err

    def test_other_error_codes_show_zohos_description(self, capsys, requests_mock):
        requests_mock.post(
            EU_TOKEN_URL, json={"error": "invalid_request", "error_description": "code missing"}
        )
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "refused the grant code exchange: code missing" in err

    def test_zoho_text_is_scrubbed_of_the_secret_and_the_code(self, capsys, requests_mock):
        echo = f"bad request: code={CODE} client_secret={SECRET} access_token={ACCESS}"
        body = {"error": f"invalid_request {SECRET}", "error_description": echo}
        requests_mock.post(EU_TOKEN_URL, json=body)
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "bad request: code=*** client_secret=*** access_token=***" in err
        assert "Zoho error 'invalid_request ***'" in err
        assert ACCESS not in err

    def test_not_zoho(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, status_code=502, text="<html>Bad gateway</html>")
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "did not answer like Zoho Accounts (HTTP 502, no JSON body)" in err

    def test_no_refresh_token(self, capsys, requests_mock):
        answer = exchange_answer()
        del answer["refresh_token"]
        requests_mock.post(EU_TOKEN_URL, json=answer)
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "issued no refresh token" in err
        assert ACCESS not in err

    def test_unreachable_server_says_the_code_is_unused(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, exc=requests.ConnectionError("refused"))
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "Could not reach https://accounts.zoho.eu (ConnectionError)" in err
        assert "probably not used" in err

    def test_timeout_is_not_retried_and_warns_the_code_may_be_used(self, capsys, requests_mock):
        requests_mock.post(EU_TOKEN_URL, exc=requests.ReadTimeout("slow"))
        code, out, err = exchange(capsys)
        self.assert_clean_failure(code, out, err)
        assert "may have used the grant code" in err
        assert requests_mock.call_count == 1
