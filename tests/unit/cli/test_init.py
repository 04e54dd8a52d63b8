"""``airflow_provider_zoho.cli``: the entry point, the parser, exit codes and the Airflow set-up."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_zoho import cli
from airflow_provider_zoho.cli import token_status
from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoAuthError, ZohoConfigError
from tests.unit.cli.conftest import run

ROOT = Path(__file__).resolve().parents[3]


def test_importing_the_cli_and_help_do_not_import_airflow():
    script = (
        "import sys, contextlib, io\n"
        "from airflow_provider_zoho import cli\n"
        "from airflow_provider_zoho.cli import auth_check, auth_exchange, lookup, token_status\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in ([], ['auth'], ['auth', 'exchange'], ['auth', 'check'], ['token', 'status']):\n"
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


def test_python_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_zoho", "token", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m airflow_provider_zoho token [-h] {status}")


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
def test_argument_errors_exit_2_with_usage(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "usage: python -m airflow_provider_zoho" in err


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (cli.CliError("no such thing"), cli.EXIT_USAGE),
        (cli.CliError("Zoho said no", cli.EXIT_ZOHO), cli.EXIT_ZOHO),
        (ZohoConfigError("--portal-id must be a number"), cli.EXIT_USAGE),
        (ZohoAuthError("refused", status_code=200, code="invalid_code"), cli.EXIT_ZOHO),
        (ZohoAPIError("unreachable"), cli.EXIT_ZOHO),
        (KeyboardInterrupt(), cli.EXIT_INTERRUPTED),
    ],
    ids=["usage", "cli-zoho", "config", "auth", "api", "interrupted"],
)
def test_expected_errors_are_one_line_and_an_exit_code(capsys, monkeypatch, error, exit_code):
    def handler(args):
        raise error

    monkeypatch.setattr(token_status, "run", handler)
    code, out, err = run(capsys, "token", "status")
    assert code == exit_code
    assert out == ""
    assert err == ("interrupted\n" if exit_code == cli.EXIT_INTERRUPTED else f"error: {error}\n")


def test_a_bug_is_not_hidden_as_an_expected_error(capsys, monkeypatch):
    def handler(args):
        raise ValueError("a bug")

    monkeypatch.setattr(token_status, "run", handler)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["token", "status"])


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [(" x ", None, "x"), (None, "from-env", "from-env"), ("given", "from-env", "given")],
    ids=["stripped", "environment", "option-wins"],
)
def test_required_reads_the_option_then_the_environment(monkeypatch, value, env, expected):
    monkeypatch.setenv("ZOHO_TEST_OPTION", env or "")
    assert cli.required(value, "--x", "ZOHO_TEST_OPTION") == expected


def test_required_names_the_option_and_its_environment_variable(monkeypatch):
    monkeypatch.setenv("ZOHO_TEST_OPTION", "  ")
    with pytest.raises(cli.CliError, match=r"^missing --x \(or set \$ZOHO_TEST_OPTION\)\.$") as error:
        cli.required(None, "--x", "ZOHO_TEST_OPTION")
    assert error.value.exit_code == cli.EXIT_USAGE
    with pytest.raises(cli.CliError, match=r"^missing --conn-id\.$"):
        cli.required("", "--conn-id")


def test_logs_go_to_stderr_and_airflow_chatter_is_hidden(capsys):
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
