"""
``auth check``: run ``ZohoOAuthHook.test_connection()`` on a connection; exit 0 or 1 with its message.

The connection is read like ``airflow connections test`` reads it (:mod:`~airflow_provider_zoho.cli.lookup`)
and the hook runs unchanged: on Airflow 2 it shares its token through the Variable as tasks do; on
Airflow 3 a process outside a running task cannot write Variables, so it mints a token of its own (one of
the 10 Zoho allows per 10 minutes) and keeps it in memory only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_zoho.cli import EXIT_OK, EXIT_ZOHO, CliError, add_conn_id, prepare_airflow, required
from airflow_provider_zoho.cli.lookup import connection_settings

if TYPE_CHECKING:
    import argparse


#: The one-line help of ``auth check``.
HELP = "test a zoho connection (get a token, read the Apptics project)"
#: What ``auth check --help`` says first.
DESCRIPTION = (
    "Run the hook's test_connection(): obtain an access token and, when the connection "
    "names an Apptics portal and project, check that they are readable. Exits 0 or 1 (2 when the "
    "connection is missing or invalid). The connection is read like 'airflow connections test' reads "
    "it: environment variables, secrets backends, then the metadata database. On Airflow 3 the token "
    "this obtains is not shared with tasks, so it costs one of Zoho's 10 mints per 10 minutes."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the options of ``auth check``.

    :param parser: the command's parser.
    """
    add_conn_id(parser)


def run(args: argparse.Namespace) -> int:
    """
    ``auth check``: run the hook's ``test_connection()``; exit 0 when it passes, 1 when it fails.

    :param args: the parsed arguments.
    """
    conn_id = required(args.conn_id, "--conn-id")
    prepare_airflow(verbose=args.verbose)
    settings, place = connection_settings(conn_id)
    print(
        f"Checking Zoho connection {conn_id!r} (from {place}; data center {settings.data_center}, "
        f"accounts {settings.accounts_url}, Apptics {settings.apptics_url})."
    )
    from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook

    ok, message = ZohoOAuthHook(zoho_conn_id=conn_id).test_connection()
    if not ok:
        raise CliError(message, EXIT_ZOHO)
    print(message)
    return EXIT_OK
