"""
Command line for the Zoho OAuth steps users find hardest: ``python -m airflow_provider_zoho ...``.

One module per command: :mod:`~airflow_provider_zoho.cli.auth_exchange` (a grant code for a refresh token
and a ready ``airflow connections add`` command), :mod:`~airflow_provider_zoho.cli.auth_check` (the
hook's connection test) and :mod:`~airflow_provider_zoho.cli.token_status` (the shared access-token cache,
never the token). Each has ``HELP`` and ``DESCRIPTION`` (its ``--help``), ``add_arguments(parser)`` (its
options) and ``run(args)`` (the command, returning the exit code). :mod:`~airflow_provider_zoho.cli.lookup`
finds connections and Variables the way Airflow does, remembering where it looked. Every rule about the
connection, Zoho's answers and the token cache is the hooks' own: the commands only add their options'
names to the hooks' messages.

Exit codes: 0 success, 1 Zoho refused or failed, 2 usage or configuration error, 130 interrupted.
Expected errors (``CliError`` and the provider's ``ZohoError``) print one ``error:`` message on stderr,
never a traceback.

Airflow is imported only by the commands that need it, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG = "python -m airflow_provider_zoho"
EXIT_OK = 0
EXIT_ZOHO = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_CONN_ID = "zoho_default"


class CliError(Exception):
    """
    An expected failure: printed as one ``error:`` line, then the process exits with ``exit_code``.

    :param message: what went wrong and how to fix it.
    :param exit_code: ``EXIT_USAGE`` for usage or configuration errors, ``EXIT_ZOHO`` for Zoho's refusals.
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def required(value: str | None, option: str, env: str | None = None) -> str:
    """
    Return an option's value (or the environment variable standing for it), stripped.

    :param value: the option's value, ``None`` when not given.
    :param option: the option, for the message.
    :param env: the environment variable read when the option is not given.
    :raises CliError: (usage) when both are missing or blank.
    """
    value = (value or (os.environ.get(env) if env else None) or "").strip()
    if not value:
        source = f" (or set ${env})" if env else ""
        raise CliError(f"missing {option}{source}.")
    return value


def add_conn_id(parser: argparse.ArgumentParser, help: str = "connection id (default: %(default)s)") -> None:
    """
    Add ``--conn-id`` (default ``zoho_default``) to a command.

    :param parser: the command's parser.
    :param help: its help text.
    """
    parser.add_argument("--conn-id", default=DEFAULT_CONN_ID, help=help)


def prepare_airflow(*, verbose: bool = False, metadata_db: bool = True) -> None:
    """
    Import Airflow for a command: logs to stderr, Airflow's own chatter hidden unless ``verbose``.

    :param verbose: show INFO logs (the provider's progress) and Airflow's warnings.
    :param metadata_db: read connections and Variables like ``airflow connections test`` does: secrets
        backends first, then the metadata database (``_AIRFLOW_PROCESS_CONTEXT=server`` unless already set).
    """
    import logging

    if metadata_db:
        os.environ.setdefault("_AIRFLOW_PROCESS_CONTEXT", "server")
    import airflow.configuration  # noqa: F401  (installs Airflow's warning filters...)

    if not verbose:
        warnings.simplefilter("ignore")  # ... which would show deprecation chatter that is not ours
    from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

    if metadata_db and not AIRFLOW_V_3_0_PLUS:
        # Airflow 2 builds Connection objects through SQLAlchemy models, whose mappers configure only
        # once every model class is imported (the airflow CLI, scheduler and workers always have them).
        from airflow.models import import_all_models

        import_all_models()
    # Airflow logs to stdout, which carries this command's output: send every log to stderr instead.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("airflow").setLevel(logging.NOTSET if verbose else logging.CRITICAL)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m airflow_provider_zoho``."""
    from airflow_provider_zoho.cli import auth_check, auth_exchange, token_status

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Zoho OAuth helpers for the airflow-provider-zoho connection.",
        epilog="Exit codes: 0 success, 1 Zoho refused or failed, 2 usage or configuration error.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", help="also show progress logs and Airflow's warnings"
    )
    groups = parser.add_subparsers(dest="group", metavar="{auth,token}", required=True)

    auth = groups.add_parser("auth", help="exchange a grant code, check a connection")
    auth_commands = auth.add_subparsers(dest="command", metavar="{exchange,check}", required=True)
    token = groups.add_parser("token", help="inspect the shared access-token cache")
    token_commands = token.add_subparsers(dest="command", metavar="{status}", required=True)
    for commands, name, command in (
        (auth_commands, "exchange", auth_exchange),
        (auth_commands, "check", auth_check),
        (token_commands, "status", token_status),
    ):
        subparser = commands.add_parser(
            name, parents=[common], help=command.HELP, description=command.DESCRIPTION
        )
        command.add_arguments(subparser)
        subparser.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run ``python -m airflow_provider_zoho``; return the exit code.

    A ``ZohoConfigError`` (a bad option, checked by the hooks' own rules) exits 2, any other ``ZohoError``
    (Zoho refused or failed) exits 1.

    :param argv: the arguments (default: ``sys.argv[1:]``).
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        # Imported here, not above: importing it imports Airflow, and whatever raised it already did.
        from airflow_provider_zoho.exceptions import ZohoConfigError, ZohoError

        if not isinstance(error, ZohoError):
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, ZohoConfigError) else EXIT_ZOHO
