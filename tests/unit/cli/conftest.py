"""What the command-line tests share: in-process runs of ``main()`` and stand-in secrets backends."""

from __future__ import annotations

import logging
import shlex
import warnings

import pytest

from airflow_provider_zoho import cli
from airflow_provider_zoho.cli import auth_exchange

CODE = "1000.0123456789abcdef0123456789abcdef.fedcba9876543210fedcba9876543210"
NEW_REFRESH = "1000.newrefresh0000000000000000000a.newrefresh0000000000000000000b"
ACCESS = "1000.accesstoken000000000000000000a.accesstoken000000000000000000b"
SECRET = "s3cr3t-client-secret-value"
EU_TOKEN_URL = "https://accounts.zoho.eu/oauth/v2/token"
CACHE_VAR = "AIRFLOW_VAR_ZOHO_OAUTH_TOKEN__ZOHO_DEFAULT"


@pytest.fixture(autouse=True)
def _process_state(monkeypatch):
    """The CLI sets an env var, the root log handler and warning filters: undo all of it after each test."""
    monkeypatch.setenv("_AIRFLOW_PROCESS_CONTEXT", "unset-by-test")
    monkeypatch.delenv("_AIRFLOW_PROCESS_CONTEXT")
    monkeypatch.delenv(auth_exchange.CLIENT_ID_ENV, raising=False)
    monkeypatch.delenv(auth_exchange.CLIENT_SECRET_ENV, raising=False)
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


def printed_command(out: str) -> list[str]:
    """The ``airflow connections add`` command of the output, split as a POSIX shell would."""
    start = out.index("airflow connections add")
    end = out.index("\n\n", start)
    return shlex.split(out[start:end].replace("\\\n", ""))  # a shell drops backslash-newline


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


class BrokenBackend:
    """A secrets backend that cannot be read (a sealed vault)."""

    def get_connection(self, conn_id):
        raise RuntimeError("vault sealed\nwith a second line")

    def get_variable(self, key):
        raise RuntimeError("vault sealed")


class DictBackend:
    """A custom secrets backend holding Variables in a dict."""

    def __init__(self, variables: dict[str, str]) -> None:
        self.variables = variables

    def get_connection(self, conn_id):
        return None

    def get_variable(self, key):
        return self.variables.get(key)
