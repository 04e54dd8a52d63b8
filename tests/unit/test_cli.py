from __future__ import annotations

import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests

from airflow_provider_zoho import cli
from tests.unit.conftest import APPTICS, CLIENT_ID, TOKEN_URL, connection_json

ROOT = Path(__file__).resolve().parents[2]
CODE = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210"
NEW_REFRESH = "1000.newrefresh0000000000000000000a.newrefresh0000000000000000000b"
ACCESS = "1000.accesstoken000000000000000000a.accesstoken000000000000000000b"
SECRET = "s3cr3t-client-secret-value"
EU_TOKEN_URL = "https://accounts.zoho.eu/oauth/v2/token"
CACHE_VAR = "AIRFLOW_VAR_ZOHO_OAUTH_TOKEN__ZOHO_DEFAULT"


def exchange_answer() -> dict:
    return {
        "access_token": ACCESS,
        "refresh_token": NEW_REFRESH,
        "api_domain": "https://www.zohoapis.eu",
        "token_type": "Bearer",
        "expires_in": 3600,
    }


@pytest.fixture(autouse=True)
def _process_state(monkeypatch):
    """The CLI sets an env var, the root log handler and warning filters: undo all of it after each test."""
    monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "unset-by-test")
    monkeypatch.delenv("_AIRFLOW_PROCESS_CONTEXT")
    monkeypatch.delenv(cli.CLIENT_ID_ENV, raising=False)
    monkeypatch.delenv(cli.CLIENT_SECRET_ENV, raising=False)
    root, airflow_logger = logging.getLogger(), logging.getLogger("airflow")
    saved = (root.handlers[:], root.level, airflow_logger.level)
    with warnings.catch_warnings():
        yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    airflow_logger.setLevel(saved[2])


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def exchange(capsys, *extra: str) -> tuple[int, str, str]:
    return run(
        capsys,
        "auth",
        "exchange",
        "--code",
        CODE,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        SECRET,
        "--data-center",
        "eu",
        *extra,
    )


def printed_command(out: str) -> list[str]:
    """The ``airflow connections add`` command of the output, split as a POSIX shell would."""
    start = out.index("airflow connections add")
    end = out.index("\n\n", start)
    return shlex.split(out[start:end].replace("\\\n", ""))  # a shell drops backslash-newline


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


# -- parsing and usage errors -------------------------------------------------------------------------------


class TestUsage:
    def test_importing_the_cli_and_help_do_not_import_airflow(self):
        script = (
            "import sys, contextlib, io\n"
            "from airflow_provider_zoho import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    for argv in ([], ['auth'], ['auth', 'exchange'], ['token', 'status']):\n"
            "        try:\n"
            "            cli.main([*argv, '--help'])\n"
            "        except SystemExit:\n"
            "            pass\n"
            "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60, check=True
        )
        assert result.stdout.strip() == "[]"

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            ([], "required: {auth,token}"),
            (["auth"], "required: {exchange,check}"),
            (["auth", "exchange", "--client-id", "x", "--client-secret", "y"], "required: --code"),
            (["token", "status", "--conn"], "expected one argument"),
            (["auth", "rotate"], "invalid choice: 'rotate'"),
        ],
        ids=["no-group", "no-command", "no-code", "no-conn-value", "unknown-command"],
    )
    def test_argument_errors_exit_2_with_usage(self, capsys, argv, message):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert message in err
        assert "usage: python -m airflow_provider_zoho" in err

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["--client-secret", SECRET], "missing --client-id (or set $ZOHO_CLIENT_ID)"),
            (["--client-id", CLIENT_ID], "missing --client-secret (or set $ZOHO_CLIENT_SECRET)"),
            (["--client-id", CLIENT_ID, "--client-secret", "  "], "missing --client-secret"),
            (["--client-id", CLIENT_ID, "--client-secret", SECRET, "--data-center", "mars"], "'mars'"),
            (
                ["--client-id", CLIENT_ID, "--client-secret", SECRET, "--accounts-url", "accounts.zoho.eu"],
                "--accounts-url must be an http(s) URL",
            ),
            (
                ["--client-id", CLIENT_ID, "--client-secret", SECRET, "--apptics-url", "ftp://x"],
                "--apptics-url must be an http(s) URL",
            ),
            (
                ["--client-id", CLIENT_ID, "--client-secret", SECRET, "--accounts-url", "http://h/?next=1"],
                "--accounts-url must be an http(s) URL of the form http(s)://host[:port][/path]",
            ),
            (
                ["--client-id", CLIENT_ID, "--client-secret", SECRET, "--apptics-url", "http://h:99999"],
                "the port is not a number from 1 to 65535",
            ),
            (
                ["--client-id", CLIENT_ID, "--client-secret", SECRET, "--portal-id", "7665\r\n"],
                "--portal-id must be a number made of the digits 0-9",
            ),
            (
                ["--client-id", CLIENT_ID, "--client-secret", SECRET, "--project-id", "７８２"],
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
        code, out, err = run(
            capsys,
            "auth",
            "exchange",
            "--code",
            CODE,
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            SECRET,
            "--accounts-url",
            "http://admin:pw-77e1@proxy:3128",
        )
        assert code == 2
        assert "--accounts-url must be an http(s) URL" in err
        assert "user name or password" in err
        assert "pw-77e1" not in out + err
        assert requests_mock.call_count == 0

    def test_unknown_data_center_lists_the_known_ones_and_guesses(self, capsys):
        code, _, err = run(
            capsys,
            "auth",
            "exchange",
            "--code",
            CODE,
            "--client-id",
            "i",
            "--client-secret",
            "s",
            "--data-center",
            "us",
        )
        assert code == 2
        assert "Did you mean 'com'?" in err
        assert "com, eu, in, com.au, jp, ca, sa, uk, com.cn" in err

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("eu", "eu"), ("EU", "eu"), (".com.au", "com.au"), (" jp ", "jp"), ("ca", "ca")],
        ids=lambda v: v,
    )
    def test_data_center_spellings(self, value, expected):
        assert cli.normalize_data_center(value) == expected

    def test_client_credentials_come_from_the_environment(self, capsys, monkeypatch, requests_mock):
        monkeypatch.setenv(cli.CLIENT_ID_ENV, "1000.FROMENV")
        monkeypatch.setenv(cli.CLIENT_SECRET_ENV, "secret-from-env")
        requests_mock.post(EU_TOKEN_URL, json=exchange_answer())
        code, out, _ = run(capsys, "auth", "exchange", "--code", CODE, "--data-center", "eu")
        assert code == 0
        form = dict(parse_qsl(requests_mock.last_request.text))
        assert (form["client_id"], form["client_secret"]) == ("1000.FROMENV", "secret-from-env")
        assert "secret-from-env" not in out
        assert option(printed_command(out), "--conn-login") == "1000.FROMENV"


# -- auth exchange: success --------------------------------------------------------------------------------


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
        assert request.timeout == cli.EXCHANGE_TIMEOUT

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
        result = cli.ExchangeResult(NEW_REFRESH, "https://www.zohoapis.eu", None, EU_TOKEN_URL)
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


# -- auth check ----------------------------------------------------------------------------------------------


class TestCheck:
    def test_success(self, capsys, requests_mock, zoho_conn):
        requests_mock.post(TOKEN_URL, json={"access_token": ACCESS, "expires_in": 3600})
        projects = [{"zsoid": "766556673", "projects": [{"projectId": "782000000004007"}]}]
        requests_mock.get(f"{APPTICS}/cx/api/v1/userprojects", json=projects)
        code, out, err = run(capsys, "auth", "check")
        assert code == 0, err
        assert "from environment variable AIRFLOW_CONN_ZOHO_DEFAULT" in out
        assert "portal 766556673 and project 782000000004007 are readable" in out
        assert requests_mock.request_history[-1].headers["Authorization"] == f"Zoho-oauthtoken {ACCESS}"
        assert ACCESS not in out + err
        assert os.environ["_AIRFLOW_PROCESS_CONTEXT"] == "server"  # reads the metadata DB like Airflow's CLI

    def test_zoho_refusal_exits_1_with_the_hooks_message(self, capsys, requests_mock, zoho_conn):
        requests_mock.post(TOKEN_URL, json={"error": "invalid_client"})
        code, out, err = run(capsys, "auth", "check", "--conn-id", "zoho_default")
        assert code == 1
        assert "Checking Zoho connection 'zoho_default'" in out
        last = err.strip().splitlines()[-1]
        assert last.startswith("error: Zoho Accounts at https://accounts.example.test (data center 'com')")
        assert "Traceback" not in err

    def test_zoho_text_is_scrubbed_through_the_hooks_mapping(self, capsys, requests_mock, zoho_conn):
        from tests.unit.conftest import CLIENT_SECRET, REFRESH_TOKEN

        echo = f"refresh_token {REFRESH_TOKEN} is not valid for client secret {CLIENT_SECRET}"
        body = {"error": "invalid_request", "error_description": echo}
        requests_mock.post(TOKEN_URL, status_code=400, json=body)
        code, out, err = run(capsys, "auth", "check")
        assert code == 1
        assert "refresh_token *** is not valid for client secret ***" in err
        assert REFRESH_TOKEN not in out + err
        assert CLIENT_SECRET not in out + err

    def test_unreadable_project_exits_1(self, capsys, requests_mock, zoho_conn):
        requests_mock.post(TOKEN_URL, json={"access_token": ACCESS, "expires_in": 3600})
        requests_mock.get(f"{APPTICS}/cx/api/v1/userprojects", json=[])
        code, _, err = run(capsys, "auth", "check")
        assert code == 1
        assert "is not among the projects" in err

    def test_missing_connection_exits_2_and_says_where_it_looked(self, capsys, monkeypatch, requests_mock):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        monkeypatch.setattr(cli, "secrets_backends", lambda: [EnvironmentVariablesBackend(), BrokenBackend()])
        code, out, err = run(capsys, "auth", "check", "--conn-id", "nope")
        assert code == 2
        assert "connection 'nope' not found" in err
        assert "environment variable AIRFLOW_CONN_NOPE: not set" in err
        assert "secrets backend BrokenBackend: unavailable (RuntimeError: vault sealed)" in err
        assert requests_mock.call_count == 0

    def test_invalid_connection_exits_2_naming_the_field(self, capsys, monkeypatch, requests_mock):
        monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra={"data_center": "mars"}))
        code, _, err = run(capsys, "auth", "check")
        assert code == 2
        assert "unknown data_center 'mars'" in err
        assert "(connection from environment variable AIRFLOW_CONN_ZOHO_DEFAULT)" in err
        assert requests_mock.call_count == 0

    def test_logs_go_to_stderr_and_airflow_chatter_is_hidden(self, capsys):
        cli.prepare_airflow(verbose=False)
        logging.getLogger("airflow.models.crypto").warning("airflow chatter")
        logging.getLogger("airflow_provider_zoho.hooks.zoho").warning("provider warning")
        logging.getLogger("airflow_provider_zoho.hooks.zoho").info("provider progress")
        out, err = capsys.readouterr()
        assert out == ""
        assert err == "WARNING: provider warning\n"
        cli.prepare_airflow(verbose=True)
        logging.getLogger("airflow_provider_zoho.hooks.zoho").info("provider progress")
        assert capsys.readouterr().err == "INFO: provider progress\n"


# -- token status --------------------------------------------------------------------------------------------


class BrokenBackend:
    def get_connection(self, conn_id):
        raise RuntimeError("vault sealed\nwith a second line")

    def get_variable(self, key):
        raise RuntimeError("vault sealed")


class DictBackend:
    def __init__(self, variables: dict[str, str]) -> None:
        self.variables = variables

    def get_connection(self, conn_id):
        return None

    def get_variable(self, key):
        return self.variables.get(key)


def record(now: float, **overrides) -> dict:
    value = {
        "access_token": ACCESS,
        "expires_at": now + 3000,
        "api_domain": "https://www.zohoapis.com",
        "refreshed_at": now - 600,
        "lease": None,
    }
    value.update(overrides)
    return value


class TestTokenStatus:
    NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def status(self, value, lookups=(), place="metadata database", margin=300):
        return cli.token_status(
            "zoho_default",
            value,
            now=self.NOW,
            margin_seconds=margin,
            variable_place=place if value is not None else None,
            lookups=[cli.Lookup(*item) for item in lookups],
        )

    @pytest.mark.parametrize(
        ("overrides", "state", "seconds_left"),
        [
            ({}, "valid", 3000),
            ({"expires_at": NOW + 200}, "expiring", 200),
            ({"expires_at": NOW - 5}, "expired", -5),
            ({"access_token": None, "expires_at": 0}, "none", None),
        ],
        ids=["valid", "inside-margin", "expired", "invalidated"],
    )
    def test_states(self, overrides, state, seconds_left):
        status = self.status(record(self.NOW, **overrides))
        assert status["state"] == state
        assert status["seconds_left"] == seconds_left
        assert ACCESS not in json.dumps(status)

    def test_absent_unknown_and_unreadable(self):
        assert self.status(None, [("metadata database", "not set")])["state"] == "absent"
        assert self.status(None, [("metadata database", "unavailable (X)")])["state"] == "unknown"
        assert self.status("not json")["state"] == "unreadable"
        assert self.status("[1, 2]")["state"] == "unreadable"
        assert self.status({})["state"] == "none"

    @pytest.mark.parametrize("expires_at", ["inf", float("inf"), float("nan"), "soon", None, True], ids=repr)
    def test_garbage_expiry_is_shown_honestly(self, expires_at):
        status = self.status(json.dumps(record(self.NOW, expires_at=expires_at)))
        assert status["state"] == "invalid"
        problem = "is not a finite number of epoch seconds"
        assert status["ignored"] == [{"field": "expires_at", "problem": problem}]
        text = cli.format_status(status, airflow_3=False)
        assert "the cached token is not valid" in text
        assert "ignored       expires_at is not a finite number of epoch seconds" in text
        assert ACCESS not in text

    @pytest.mark.parametrize(
        "lease",
        [
            "x",
            [1, 2],
            {"until": "zz"},
            {"until": None},
            {"owner": "o", "until": "inf"},
            {"owner": "", "until": 1},
        ],
        ids=repr,
    )
    def test_garbage_lease_is_not_shown_as_no_lease(self, lease):
        status = self.status(record(self.NOW, lease=lease))
        text = cli.format_status(status, airflow_3=False)
        assert "nobody is minting" not in text
        assert "lease         unreadable (see 'ignored'); tasks treat it as no lease" in text
        assert status["ignored"][0]["field"] == "lease"

    def test_far_future_values_do_not_break_the_display(self):
        status = self.status(
            record(self.NOW, expires_at=1e18, lease={"owner": "ghost", "until": 1e300}, refreshed_at=1e17)
        )
        assert status["state"] == "valid"
        text = cli.format_status(status, airflow_3=False)
        assert "1e+18 (epoch seconds, not a date)" in text
        assert "held by 'ghost' until 1e+300 (epoch seconds, not a date)" in text
        assert "tasks wait at most 30 s for it unless its holder renews it" in text

    def test_state_follows_the_caches_margin_rule(self):
        # Zoho granted 200 s and 150 s are left: a task would use it (the margin in force is 100 s).
        status = self.status(record(self.NOW, expires_at=self.NOW + 150, refreshed_at=self.NOW - 50))
        assert status["state"] == "valid"
        assert status["margin_in_force"] == 100.0
        assert "(in 150 s; replaced 100 s early)" in cli.format_status(status, airflow_3=False)

    def test_command_survives_an_infinite_expiry(self, capsys, monkeypatch, zoho_conn):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        monkeypatch.setenv(CACHE_VAR, json.dumps({"access_token": ACCESS, "expires_at": "inf", "lease": "x"}))
        monkeypatch.setattr(cli, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
        code, out, err = run(capsys, "token", "status")
        assert code == 0, err
        assert "the cached token is not valid" in out
        assert "nobody is minting" not in out
        assert ACCESS not in out + err

    def test_fields(self):
        lease = {"owner": "worker-1:42:abcd", "until": self.NOW + 20}
        status = self.status(record(self.NOW, lease=lease))
        assert status["expires_at"] == "2026-01-01T00:50:00Z"
        assert status["refreshed_at"] == "2025-12-31T23:50:00Z"
        assert status["api_domain"] == "https://www.zohoapis.com"
        assert status["lease"] == {
            "owner": "worker-1:42:abcd",
            "until": "2026-01-01T00:00:20Z",
            "seconds_left": 20,
            "active": True,
        }
        assert (
            self.status(record(self.NOW, lease={"owner": "w", "until": self.NOW - 1}))["lease"]["active"]
            is False
        )

    def test_text_never_shows_the_token(self):
        lease = {"owner": "worker-1:42:abcd", "until": self.NOW + 20}
        status = self.status(
            record(self.NOW, lease=lease),
            [("environment variable AIRFLOW_VAR_X", "not set"), ("metadata database", "found")],
        )
        text = cli.format_status(status, airflow_3=True)
        assert ACCESS not in text
        assert "2026-01-01T00:50:00Z (in 3000 s; replaced 300 s early)" in text
        assert "held by 'worker-1:42:abcd' until 2026-01-01T00:00:20Z (20 s left)" in text
        assert "looked in     environment variable AIRFLOW_VAR_X: not set" in text
        assert "              metadata database: found" in text
        assert "read-only" in text
        assert "read-only" not in cli.format_status(status, airflow_3=False)

    def test_command_reads_the_variable_and_the_connection(self, capsys, monkeypatch, zoho_conn):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        now = time.time()
        monkeypatch.setenv(CACHE_VAR, json.dumps(record(now, expires_at=now + 1800)))
        monkeypatch.setattr(cli, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
        code, out, err = run(capsys, "token", "status")
        assert code == 0, err
        assert ACCESS not in out + err
        assert "zoho_default (from environment variable AIRFLOW_CONN_ZOHO_DEFAULT)" in out
        assert "accounts URL  https://accounts.example.test" in out
        assert "environment variable AIRFLOW_VAR_ZOHO_OAUTH_TOKEN__ZOHO_DEFAULT: found" in out
        assert "a usable token is cached" in out
        assert re.search(r"\(in 17\d\d s; replaced 300 s early\)", out)

    def test_json_output(self, capsys, monkeypatch, zoho_conn):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        now = time.time()
        key = "zoho_oauth_token__zoho_default"
        backends = [
            BrokenBackend(),
            EnvironmentVariablesBackend(),
            DictBackend({key: json.dumps(record(now))}),
        ]
        monkeypatch.setattr(cli, "secrets_backends", lambda: backends)
        code, out, _ = run(capsys, "token", "status", "--json")
        assert code == 0
        status = json.loads(out)
        assert status["state"] == "valid"
        assert status["found_in"] == "secrets backend DictBackend"
        assert [item["result"] for item in status["looked_in"]] == [
            "unavailable (RuntimeError: vault sealed)",
            "not set",
            "found",
        ]
        assert status["connection"]["data_center"] == "com"
        assert 2990 <= status["seconds_left"] <= 3000
        assert ACCESS not in out

    def test_missing_connection_still_shows_the_cache_and_exits_2(self, capsys, monkeypatch):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        monkeypatch.setattr(cli, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
        code, out, _ = run(capsys, "token", "status", "--conn-id", "gone")
        assert code == 2
        assert re.search(r"connection +not usable: connection 'gone' not found", out)
        assert "no cache yet" in out
