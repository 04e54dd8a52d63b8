"""
Command line for the Zoho OAuth steps users find hardest: ``python -m airflow_provider_zoho ...``.

``auth exchange``
    Exchanges a Self Client grant code (it lives 3 minutes and works once) for a refresh token, prints
    the refresh token once, clearly labelled, and a ready ``airflow connections add`` command. The client
    secret and the refresh token appear in that command only with ``--show-secrets``; by default it holds
    the placeholders ``'<client secret>'`` and ``'<refresh token>'``, so the command can be pasted into a
    ticket or a runbook and the secrets never reach shell history by accident. The access token Zoho
    issues with the refresh token is never printed: the hook mints its own when it needs one.
``auth check``
    Runs ``ZohoOAuthHook.test_connection()`` on a connection and exits 0 or 1 with its message.
``token status``
    Describes the shared access-token cache (the Variable ``zoho_oauth_token__<conn_id>``) without the
    token: expiry, seconds left, ``api_domain``, lease holder, and every place it looked for it.

Exit codes: 0 success, 1 Zoho refused or failed, 2 usage or configuration error, 130 interrupted.
Expected errors print one ``error:`` message on stderr, never a traceback.

Airflow is imported only by the commands that need it, so ``--help`` stays fast. ``auth check`` and
``token status`` read connections and Variables like ``airflow connections test`` does: they set
``_AIRFLOW_PROCESS_CONTEXT=server`` (unless already set) so that, on Airflow 3, the metadata database is
searched after environment variables and any configured secrets backend. ``token status`` only reads.
``auth check`` runs the hook unchanged: on Airflow 2 it shares its token through the Variable as tasks
do; on Airflow 3 a process outside a running task cannot write Variables, so it mints a token of its own
(one of the 10 Zoho allows per 10 minutes) and keeps it in memory only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import sys
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.get_provider_info import DATA_CENTERS

if TYPE_CHECKING:
    from collections.abc import Sequence

    import requests

    from airflow_provider_zoho.exceptions import ZohoError
    from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings

PROG = "python -m airflow_provider_zoho"
EXIT_OK = 0
EXIT_ZOHO = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

DEFAULT_CONN_ID = "zoho_default"
CLIENT_SECRET_PLACEHOLDER = "<client secret>"
REFRESH_TOKEN_PLACEHOLDER = "<refresh token>"
#: Environment variables read when ``--client-id`` / ``--client-secret`` are not given (keeps the secret
#: out of ``ps`` and shell history).
CLIENT_ID_ENV = "ZOHO_CLIENT_ID"
CLIENT_SECRET_ENV = "ZOHO_CLIENT_SECRET"
#: (connect, read) timeout of the code exchange. A grant code is single-use, so the exchange is never
#: retried automatically.
EXCHANGE_TIMEOUT = (10.0, 30.0)
_DATA_CENTER_HINTS = {"us": "com", "au": "com.au", "cn": "com.cn", "zohocloud.ca": "ca"}


class CliError(Exception):
    """
    An expected failure: printed as one ``error:`` line, then the process exits with ``exit_code``.

    :param message: what went wrong and how to fix it.
    :param exit_code: ``EXIT_USAGE`` for usage or configuration errors, ``EXIT_ZOHO`` for Zoho's refusals.
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# -- arguments ----------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m airflow_provider_zoho``."""
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

    exchange = auth_commands.add_parser(
        "exchange",
        parents=[common],
        help="exchange a Self Client grant code for a refresh token",
        description="Exchange a Self Client grant code for a refresh token and print a ready "
        "'airflow connections add' command. A grant code lives 3 minutes (the console's default) and "
        "works once: generate it (scope JProxy.jmobileapi.ALL for Apptics) right before running this.",
        epilog="The refresh token is printed once, labelled; store it at once. The printed command holds "
        f"the placeholders '{CLIENT_SECRET_PLACEHOLDER}' and '{REFRESH_TOKEN_PLACEHOLDER}' unless "
        "--show-secrets is given. The access token is never printed.",
    )
    exchange.add_argument(
        "--code", required=True, help="the grant code from the Self Client's Generate Code tab"
    )
    exchange.add_argument(
        "--client-id", help=f"the Self Client's Client ID (default: ${CLIENT_ID_ENV})", metavar="ID"
    )
    exchange.add_argument(
        "--client-secret",
        help=f"the Self Client's Client Secret (default: ${CLIENT_SECRET_ENV}, which keeps it out of "
        "shell history)",
        metavar="SECRET",
    )
    exchange.add_argument(
        "--data-center",
        default="com",
        metavar="DC",
        help=f"where the Self Client is registered: {', '.join(DATA_CENTERS)} (default: %(default)s)",
    )
    exchange.add_argument(
        "--accounts-url",
        metavar="URL",
        help="accounts server root overriding the data center's (e.g. a proxy or the sandbox); "
        "it is also stored in the connection",
    )
    exchange.add_argument(
        "--conn-id",
        default=DEFAULT_CONN_ID,
        help="connection id of the printed command (default: %(default)s)",
    )
    exchange.add_argument("--portal-id", help="Apptics portal id (zsoid) for the connection")
    exchange.add_argument("--project-id", help="Apptics project id for the connection")
    exchange.add_argument(
        "--apptics-url", metavar="URL", help="Apptics server root override for the connection"
    )
    exchange.add_argument(
        "--show-secrets",
        action="store_true",
        help="put the real client secret and refresh token into the printed command",
    )
    exchange.set_defaults(handler=run_exchange)

    check = auth_commands.add_parser(
        "check",
        parents=[common],
        help="test a zoho connection (get a token, read the Apptics project)",
        description="Run the hook's test_connection(): obtain an access token and, when the connection "
        "names an Apptics portal and project, check that they are readable. Exits 0 or 1 (2 when the "
        "connection is missing or invalid). The connection is read like 'airflow connections test' reads "
        "it: environment variables, secrets backends, then the metadata database. On Airflow 3 the token "
        "this obtains is not shared with tasks, so it costs one of Zoho's 10 mints per 10 minutes.",
    )
    check.add_argument("--conn-id", default=DEFAULT_CONN_ID, help="connection id (default: %(default)s)")
    check.set_defaults(handler=run_check)

    token = groups.add_parser("token", help="inspect the shared access-token cache")
    token_commands = token.add_subparsers(dest="command", metavar="{status}", required=True)
    status = token_commands.add_parser(
        "status",
        parents=[common],
        help="show the cached access token's state (never the token)",
        description="Show the state of the access-token cache of a connection (the Airflow Variable "
        "zoho_oauth_token__<conn id>): expiry, seconds left, api_domain, lease holder and where it was "
        "found. The token itself is never shown. Read-only.",
    )
    status.add_argument("--conn-id", default=DEFAULT_CONN_ID, help="connection id (default: %(default)s)")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=run_status)
    return parser


def normalize_data_center(value: str) -> str:
    """
    Return the canonical data center code for ``value`` (``EU``, ``.eu`` and ``eu`` are ``eu``).

    :param value: what the user typed.
    :raises CliError: (usage) for an unknown data center, listing the known ones.
    """
    data_center = value.strip().lower().lstrip(".")
    if data_center in DATA_CENTERS:
        return data_center
    hint = _DATA_CENTER_HINTS.get(data_center)
    did_you_mean = f" Did you mean {hint!r}?" if hint else ""
    raise CliError(
        f"unknown data center {value!r}.{did_you_mean} Use one of {', '.join(DATA_CENTERS)}: the domain of "
        "accounts.zoho.<data center> where you log in and created the Self Client "
        "(ca is accounts.zohocloud.ca)."
    )


def root_url(value: str, option: str, *, secrets: Sequence[str | None] = ()) -> str:
    """
    Validate an http(s) server root given on the command line, as the hook validates the connection's.

    :param value: the URL.
    :param option: the option it came from, for the message.
    :param secrets: values the message must not show.
    :return: the URL without a trailing slash.
    :raises CliError: (usage) unless it is ``http(s)://host[:port][/path]``.
    """
    from airflow_provider_zoho.exceptions import ZohoConfigError
    from airflow_provider_zoho.hooks.zoho_connection import validate_root_url

    try:
        return validate_root_url(value, option, example="https://accounts.zoho.eu", secrets=secrets)
    except ZohoConfigError as error:
        raise CliError(str(error)) from None


def header_id(value: str | None, option: str) -> str | None:
    """
    Validate an id given on the command line (``--portal-id``...), as the hook validates the connection's.

    :param value: the id, or ``None`` / blank when not given.
    :param option: the option it came from, for the message.
    :return: the id, or ``None``.
    :raises CliError: (usage) unless it is made of the digits 0-9.
    """
    from airflow_provider_zoho.exceptions import ZohoConfigError
    from airflow_provider_zoho.hooks.zoho_connection import validate_digits

    if value is None or not value.strip():
        return None
    try:
        return validate_digits(value, option)
    except ZohoConfigError as error:
        raise CliError(str(error)) from None


def _required(value: str | None, option: str, env: str | None = None) -> str:
    value = (value or (os.environ.get(env) if env else None) or "").strip()
    if not value:
        source = f" (or set ${env})" if env else ""
        raise CliError(f"missing {option}{source}.")
    return value


# -- auth exchange ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeResult:
    """
    What a successful code exchange gives the user (the access token is deliberately not kept).

    :param refresh_token: the new refresh token (secret).
    :param api_domain: Zoho's API domain for the account, when Zoho sent it.
    :param scope: the granted scope, when Zoho sent it.
    :param token_url: the token endpoint that answered.
    """

    refresh_token: str
    api_domain: str | None
    scope: str | None
    token_url: str

    def __repr__(self) -> str:
        return f"ExchangeResult(api_domain={self.api_domain!r}, token_url={self.token_url!r})"


def grant_code_error(
    body: Any,
    status: int,
    url: str,
    *,
    data_center: str,
    accounts_url: str,
    url_overridden: bool = False,
    secrets: Sequence[str | None] = (),
) -> ZohoError:
    """
    Turn a failed answer of the code exchange into an error that says what to do.

    :param body: the decoded JSON body (``{"error": ...}``), or ``None``.
    :param status: the HTTP status (Zoho answers most errors with 200).
    :param url: the token endpoint called.
    :param data_center: the data center the user chose.
    :param accounts_url: the accounts server root called.
    :param url_overridden: whether ``accounts_url`` came from ``--accounts-url``.
    :param secrets: the client secret and the grant code: Zoho's text is scrubbed of them.
    """
    from airflow_provider_zoho.exceptions import ZohoAPIError, ZohoAuthError, ZohoRateLimitError
    from airflow_provider_zoho.hooks.zoho_connection import ACCOUNTS_HOSTS
    from airflow_provider_zoho.hooks.zoho_http import THROTTLE_ERRORS, scrub, strip_query, zoho_error_code

    code = zoho_error_code(body)
    code = None if code is None else scrub(code, secrets)
    description = body.get("error_description") if isinstance(body, dict) else None
    description = None if description is None else scrub(str(description), secrets)
    where: dict[str, Any] = {"status_code": status, "code": code, "url": strip_query(url)}
    if code == "invalid_code":
        return ZohoAuthError(
            "Zoho rejected the grant code: it expired (a Self Client code lives 3 minutes unless you chose "
            "longer), was already used (a code works once, even when the first exchange failed midway), "
            f"or was generated in another data center than {data_center!r} ({accounts_url}). Generate a "
            "new code in the API console (Self Client > Generate Code) and run this command within its "
            "lifetime.",
            **where,
        )
    if code in ("invalid_client", "invalid_client_secret"):
        if url_overridden:
            fix = (
                "--accounts-url overrides the data center's server: point it at the accounts server "
                "where the Self Client is registered."
            )
        else:
            others = ", ".join(f"{dc} ({ACCOUNTS_HOSTS[dc]})" for dc in DATA_CENTERS if dc != data_center)
            fix = f"Other data centers: {others}."
        what = "this client secret" if code == "invalid_client_secret" else "this client id and secret"
        return ZohoAuthError(
            f"Zoho Accounts at {accounts_url} (data center {data_center!r}) does not know {what}. The usual "
            "cause is a wrong data center: a client registered at accounts.zoho.eu is unknown to "
            "accounts.zoho.com. Pass --data-center with the domain you log in at; otherwise copy the "
            f"Client ID and Secret again from the Self Client's 'Client Secret' tab. {fix} The grant code "
            "is probably still unused: retry with the right data center while it is valid.",
            **where,
        )
    if code is not None and code.lower() in THROTTLE_ERRORS:
        return ZohoRateLimitError(
            "Zoho throttled token creation for this client "
            f"({description or 'Access Denied'}). Zoho allows only a few new refresh tokens per minute "
            "and 10 grant codes per 10 minutes: wait a few minutes, generate a new code and try again.",
            **where,
        )
    if code is not None:
        return ZohoAuthError(
            f"Zoho Accounts refused the grant code exchange: {description or code}.",
            **where,
        )
    if status >= 400 or body is None:
        return ZohoAPIError(
            f"{accounts_url} did not answer like Zoho Accounts (HTTP {status}, "
            f"{'no JSON body' if body is None else 'no error code'}). Check --data-center / --accounts-url; "
            "Zoho may also be unavailable, then wait and generate a new code.",
            **where,
        )
    return ZohoAuthError(
        "Zoho issued no refresh token. A Self Client grant code always gives one; a code from the web "
        "authorization flow gives one only with access_type=offline (and prompt=consent). Generate a Self "
        "Client code and try again.",
        **where,
    )


def exchange_grant_code(
    code: str,
    client_id: str,
    client_secret: str,
    *,
    data_center: str,
    accounts_url: str,
    url_overridden: bool = False,
    session: requests.Session | None = None,
) -> ExchangeResult:
    """
    POST ``{accounts_url}/oauth/v2/token`` with ``grant_type=authorization_code``; never retried.

    :param code: the grant code.
    :param client_id: the Self Client's id.
    :param client_secret: its secret.
    :param data_center: the data center chosen (for messages).
    :param accounts_url: the accounts server root.
    :param url_overridden: whether ``accounts_url`` came from ``--accounts-url`` (for messages).
    :param session: the HTTP session to use (a new one by default).
    :raises ZohoError: when Zoho refuses, cannot be reached or answers something unusable.
    """
    import requests

    from airflow_provider_zoho import __version__
    from airflow_provider_zoho.exceptions import ZohoAPIError

    url = f"{accounts_url}/oauth/v2/token"
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
    }
    http = session or requests.Session()
    try:
        response = http.post(
            url,
            data=form,
            headers={"User-Agent": f"airflow-provider-zoho/{__version__} (cli)"},
            timeout=EXCHANGE_TIMEOUT,
        )
    except requests.ReadTimeout:
        raise ZohoAPIError(
            f"{accounts_url} did not answer within {EXCHANGE_TIMEOUT[1]:.0f} s. Zoho may have used the grant "
            "code anyway: if a retry answers invalid_code, generate a new code.",
            url=url,
        ) from None
    except requests.RequestException as error:
        raise ZohoAPIError(
            f"Could not reach {accounts_url} ({type(error).__name__}). Check --data-center / --accounts-url "
            "and the network; the grant code was probably not used, so retry while it is valid.",
            url=url,
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("refresh_token") and "error" not in body and response.ok:
        return ExchangeResult(
            refresh_token=str(body["refresh_token"]),
            api_domain=body.get("api_domain"),
            scope=body.get("scope"),
            token_url=url,
        )
    raise grant_code_error(
        body,
        response.status_code,
        url,
        data_center=data_center,
        accounts_url=accounts_url,
        url_overridden=url_overridden,
        secrets=(client_secret, code),
    )


def connection_extras(
    *,
    refresh_token: str,
    data_center: str,
    accounts_url: str | None = None,
    apptics_url: str | None = None,
    portal_id: str | None = None,
    project_id: str | None = None,
) -> dict[str, str]:
    """
    The ``extra`` of a ``zoho`` connection, in the connection form's order, without empty values.

    :param refresh_token: the refresh token, or a placeholder.
    :param data_center: the data center code.
    :param accounts_url: accounts server override.
    :param apptics_url: Apptics server override.
    :param portal_id: Apptics portal id.
    :param project_id: Apptics project id.
    """
    extras = {
        "refresh_token": refresh_token,
        "data_center": data_center,
        "portal_id": portal_id,
        "project_id": project_id,
        "accounts_url": accounts_url,
        "apptics_url": apptics_url,
    }
    return {key: value for key, value in extras.items() if value}


def connections_add_command(
    conn_id: str, *, client_id: str, client_secret: str, extras: dict[str, str]
) -> str:
    """
    An ``airflow connections add`` command, one option per line, every value quoted with ``shlex.quote``.

    :param conn_id: the connection id.
    :param client_id: the connection's login.
    :param client_secret: the connection's password (or a placeholder).
    :param extras: the connection's extra fields (serialized with ``--conn-extra``).
    """
    lines = [
        ["airflow", "connections", "add", conn_id],
        ["--conn-type", "zoho"],
        ["--conn-login", client_id],
        ["--conn-password", client_secret],
        ["--conn-extra", json.dumps(extras)],
    ]
    return " \\\n    ".join(" ".join(shlex.quote(part) for part in line) for line in lines)


def format_exchange(
    result: ExchangeResult,
    *,
    conn_id: str,
    client_id: str,
    client_secret: str,
    data_center: str,
    accounts_url: str | None,
    apptics_url: str | None,
    portal_id: str | None,
    project_id: str | None,
    show_secrets: bool,
) -> str:
    """
    The text printed after a successful exchange: the labelled refresh token and the connection command.

    :param result: the exchange's result.
    :param conn_id: connection id for the command.
    :param client_id: the Self Client's id (not secret; always shown).
    :param client_secret: its secret (shown only with ``show_secrets``).
    :param data_center: the data center code.
    :param accounts_url: accounts server override given by the user, if any.
    :param apptics_url: Apptics server override given by the user, if any.
    :param portal_id: Apptics portal id, if given.
    :param project_id: Apptics project id, if given.
    :param show_secrets: put the real secrets into the command instead of placeholders.
    """
    secret = client_secret if show_secrets else CLIENT_SECRET_PLACEHOLDER
    refresh = result.refresh_token if show_secrets else REFRESH_TOKEN_PLACEHOLDER
    extras = connection_extras(
        refresh_token=refresh,
        data_center=data_center,
        accounts_url=accounts_url,
        apptics_url=apptics_url,
        portal_id=portal_id,
        project_id=project_id,
    )
    command = connections_add_command(conn_id, client_id=client_id, client_secret=secret, extras=extras)
    details = ", ".join(
        item
        for item in (
            f"data center {data_center}",
            f"api_domain {result.api_domain}" if result.api_domain else "",
            f"scope {result.scope}" if result.scope else "",
        )
        if item
    )
    lines = [
        f"Grant code exchanged at {result.token_url} ({details}).",
        "",
        "Refresh token (store it now: Zoho never shows it again; it does not expire until revoked):",
        f"    {result.refresh_token}",
        "",
    ]
    if show_secrets:
        lines += [
            "Create the Airflow connection (this command contains the client secret and the refresh token;",
            "running it puts them in your shell history):",
        ]
    else:
        lines += [
            "Create the Airflow connection after replacing the placeholders:",
            f"    '{CLIENT_SECRET_PLACEHOLDER}'  your Self Client's Client Secret (the --client-secret or "
            f"${CLIENT_SECRET_ENV} you used)",
            f"    '{REFRESH_TOKEN_PLACEHOLDER}'  the refresh token above",
            "(--show-secrets puts the real values in the command; this code is used now, so that takes a "
            "new one.)",
        ]
    lines += ["", command, ""]
    if not (portal_id and project_id):
        lines.append(
            'Apptics extraction also needs "portal_id" and "project_id" in --conn-extra (the numbers after '
            "/ac/ and /dashboard/ in Apptics URLs)."
        )
    lines += [
        "The access token Zoho issued with it is not shown: the hook mints and caches its own.",
        "Zoho keeps at most 20 refresh tokens per user and client; exchanging more codes revokes the oldest.",
        f"Then check the connection: {PROG} auth check --conn-id {shlex.quote(conn_id)}",
    ]
    return "\n".join(lines)


def run_exchange(args: argparse.Namespace) -> int:
    """
    ``auth exchange``: validate the arguments, exchange the code, print the result.

    :param args: the parsed arguments.
    """
    code = _required(args.code, "--code")
    client_id = _required(args.client_id, "--client-id", CLIENT_ID_ENV)
    client_secret = _required(args.client_secret, "--client-secret", CLIENT_SECRET_ENV)
    data_center = normalize_data_center(args.data_center)
    conn_id = _required(args.conn_id, "--conn-id")

    prepare_airflow(verbose=args.verbose, metadata_db=False)
    secrets = (client_secret, code)
    accounts_override = (
        root_url(args.accounts_url, "--accounts-url", secrets=secrets) if args.accounts_url else None
    )
    apptics_url = root_url(args.apptics_url, "--apptics-url", secrets=secrets) if args.apptics_url else None
    portal_id = header_id(args.portal_id, "--portal-id")
    project_id = header_id(args.project_id, "--project-id")
    from airflow_provider_zoho.exceptions import ZohoError
    from airflow_provider_zoho.hooks.zoho_connection import ACCOUNTS_HOSTS

    accounts_url = accounts_override or f"https://{ACCOUNTS_HOSTS[data_center]}"
    try:
        result = exchange_grant_code(
            code,
            client_id,
            client_secret,
            data_center=data_center,
            accounts_url=accounts_url,
            url_overridden=accounts_override is not None,
        )
    except ZohoError as error:
        raise CliError(str(error), EXIT_ZOHO) from None
    print(
        format_exchange(
            result,
            conn_id=conn_id,
            client_id=client_id,
            client_secret=client_secret,
            data_center=data_center,
            accounts_url=accounts_override,
            apptics_url=apptics_url,
            portal_id=portal_id,
            project_id=project_id,
            show_secrets=args.show_secrets,
        )
    )
    return EXIT_OK


# -- where connections and Variables come from -------------------------------------------------------------


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


def secrets_backends() -> list[Any]:
    """The secrets backends Airflow searches outside a task, in order: custom, environment, metadata DB."""
    from airflow.configuration import ensure_secrets_loaded

    return list(ensure_secrets_loaded())


def describe_place(backend: Any, *, connection: str | None = None, variable: str | None = None) -> str:
    """
    Name the place a secrets backend reads, e.g. ``environment variable AIRFLOW_CONN_ZOHO_DEFAULT``.

    :param backend: a secrets backend instance.
    :param connection: the connection id looked up, if a connection.
    :param variable: the Variable key looked up, if a Variable.
    """
    name = type(backend).__name__
    if name == "EnvironmentVariablesBackend":
        return (
            f"environment variable AIRFLOW_CONN_{connection.upper()}"
            if connection is not None
            else f"environment variable AIRFLOW_VAR_{(variable or '').upper()}"
        )
    if name == "MetastoreBackend":
        return "metadata database"
    return f"secrets backend {name}"


@dataclass
class Lookup:
    """
    Where something was looked for and what was found there.

    :param place: e.g. ``metadata database``.
    :param result: ``found``, ``not set`` or ``unavailable (...)``.
    """

    place: str
    result: str


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    message = text[0] if text else ""
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _search(
    backends: Sequence[Any], method: str, key: str, describe: dict[str, str]
) -> tuple[Any, str | None, list[Lookup]]:
    lookups: list[Lookup] = []
    for backend in backends:
        place = describe_place(backend, **describe)
        try:
            value = getattr(backend, method)(key)
        except Exception as error:  # a backend that cannot be read is reported, not fatal
            lookups.append(Lookup(place, f"unavailable ({_first_line(error)})"))
            continue
        if value is not None:
            lookups.append(Lookup(place, "found"))
            return value, place, lookups
        lookups.append(Lookup(place, "not set"))
    return None, None, lookups


def find_connection(
    conn_id: str, backends: Sequence[Any] | None = None
) -> tuple[Any, str | None, list[Lookup]]:
    """
    Look ``conn_id`` up in each secrets backend in turn, as Airflow does, remembering where it looked.

    :param conn_id: the connection id.
    :param backends: the backends to search (default: :func:`secrets_backends`).
    :return: the connection (or ``None``), the place it came from, and every place searched.
    """
    if backends is None:
        backends = secrets_backends()
    return _search(backends, "get_connection", conn_id, {"connection": conn_id})


def read_token_variable(
    conn_id: str, backends: Sequence[Any] | None = None
) -> tuple[Any, str | None, list[Lookup]]:
    """
    Read the token-cache Variable of ``conn_id`` from each secrets backend in turn (read-only).

    :param conn_id: the connection id.
    :param backends: the backends to search (default: :func:`secrets_backends`).
    :return: the raw value (``None`` when absent), the place it came from, and every place searched.
    """
    from airflow_provider_zoho.hooks.token_cache import variable_key

    if backends is None:
        backends = secrets_backends()
    key = variable_key(conn_id)
    return _search(backends, "get_variable", key, {"variable": key})


def _connection_settings(conn_id: str) -> tuple[ZohoConnectionSettings, str]:
    from airflow_provider_zoho.exceptions import ZohoConfigError
    from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings

    conn, place, lookups = find_connection(conn_id)
    if conn is None:
        searched = "; ".join(f"{lookup.place}: {lookup.result}" for lookup in lookups)
        raise CliError(
            f"connection {conn_id!r} not found (searched {searched}). Create it with the command "
            f"'{PROG} auth exchange' prints, or set AIRFLOW_CONN_{conn_id.upper()}."
        )
    try:
        settings = ZohoConnectionSettings.from_connection(conn)
    except ZohoConfigError as error:
        raise CliError(f"{error} (connection from {place})") from None
    return settings, str(place)


# -- auth check ----------------------------------------------------------------------------------------------


def run_check(args: argparse.Namespace) -> int:
    """
    ``auth check``: run the hook's ``test_connection()``; exit 0 when it passes, 1 when it fails.

    :param args: the parsed arguments.
    """
    conn_id = _required(args.conn_id, "--conn-id")
    prepare_airflow(verbose=args.verbose)
    settings, place = _connection_settings(conn_id)
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


# -- token status -------------------------------------------------------------------------------------------


def _utc(epoch: float) -> str:
    try:
        return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{epoch:.6g} (epoch seconds, not a date)"


def token_status(
    conn_id: str,
    raw: Any,
    *,
    now: float,
    margin_seconds: float,
    variable_place: str | None = None,
    lookups: Sequence[Lookup] = (),
    settings: ZohoConnectionSettings | None = None,
    connection_place: str | None = None,
    connection_error: str | None = None,
) -> dict[str, Any]:
    """
    Describe the token-cache Variable for display; the access token itself never enters the result.

    The value is read by the cache's own parser (``parse_record``) and judged by the cache's own rule
    (``AccessToken.usable``), so this shows what a task would make of it, including what it would ignore.

    :param conn_id: the connection id.
    :param raw: the Variable's value as found (``None`` when absent).
    :param now: the current time, epoch seconds.
    :param margin_seconds: the connection's ``token_margin_seconds`` (tokens are replaced this early).
    :param variable_place: where the Variable was found.
    :param lookups: every place searched for the Variable.
    :param settings: the connection, when it could be read.
    :param connection_place: where the connection was found.
    :param connection_error: why the connection could not be read.
    """
    from airflow_provider_zoho.hooks.token_cache import TokenCache, parse_record, variable_key

    status: dict[str, Any] = {
        "conn_id": conn_id,
        "variable": variable_key(conn_id),
        "found_in": variable_place,
        "looked_in": [{"place": lookup.place, "result": lookup.result} for lookup in lookups],
        "connection": {"found_in": connection_place, "error": connection_error},
        "margin_seconds": margin_seconds,
    }
    if settings is not None:
        status["connection"].update(data_center=settings.data_center, accounts_url=settings.accounts_url)
    record = parse_record(raw)
    ignored = {field for field, _ in record.problems}
    token, lease = record.token, record.lease
    if variable_place is None:
        unreadable = any(lookup.result.startswith("unavailable") for lookup in lookups)
        state = "unknown" if unreadable else "absent"
    elif "value" in ignored:
        state = "unreadable"
    elif token is None:
        state = "invalid" if ignored & {"access_token", "expires_at"} else "none"
    elif token.expires_at <= now:
        state = "expired"
    elif not token.usable(margin_seconds, now):
        state = "expiring"
    else:
        state = "valid"
    status["state"] = state
    status["ignored"] = [{"field": field, "problem": problem} for field, problem in record.problems]
    status["expires_at"] = _utc(token.expires_at) if token else None
    status["seconds_left"] = int(token.expires_at - now) if token else None
    status["margin_in_force"] = token.margin_in_force(margin_seconds) if token else None
    status["refreshed_at"] = _utc(token.refreshed_at) if token and token.refreshed_at else None
    status["api_domain"] = token.api_domain if token else None
    status["lease"] = (
        None
        if lease is None
        else {
            "owner": lease.owner,
            "until": _utc(lease.until),
            "seconds_left": int(lease.until - now),
            "active": lease.until > now,
        }
    )
    status["lease_seconds"] = TokenCache.lease_seconds
    return status


_STATE_TEXT = {
    "absent": "no cache yet: the Variable does not exist (the next task that needs a token creates it)",
    "unknown": "not found, but a place above could not be read: a cached token may exist there",
    "unreadable": "the Variable's value is not a JSON object; tasks ignore it and the next one rewrites it",
    "invalid": "the cached token is not valid (see 'ignored'); tasks ignore it and the next one mints one",
    "none": "no token cached (it was dropped or never stored); the next task mints one",
    "expired": "cached token expired; the next task mints a new one",
    "expiring": "cached token is inside the refresh margin; the next task mints a new one",
    "valid": "a usable token is cached (value not shown)",
}


def _lease_text(status: dict[str, Any]) -> str:
    lease = status["lease"]
    if lease is None:
        if any(item["field"] == "lease" for item in status["ignored"]):
            return "unreadable (see 'ignored'); tasks treat it as no lease, the next one takes over"
        return "none (nobody is minting a token)"
    if not lease["active"]:
        return f"expired, last held by {lease['owner']!r} (the next task takes over)"
    text = f"held by {lease['owner']!r} until {lease['until']} ({lease['seconds_left']} s left)"
    if lease["seconds_left"] > status["lease_seconds"]:
        text += f"; tasks wait at most {status['lease_seconds']:.0f} s for it unless its holder renews it"
    return text


def format_status(status: dict[str, Any], *, airflow_3: bool) -> str:
    """
    Render :func:`token_status` as aligned text.

    :param status: the status.
    :param airflow_3: whether this runs on Airflow 3 (where this process cannot write the cache).
    """
    rows: list[tuple[str, str]] = []
    connection = status["connection"]
    if connection.get("error"):
        rows.append(("connection", f"not usable: {connection['error']}"))
    else:
        rows += [
            ("connection", f"{status['conn_id']} (from {connection['found_in']})"),
            ("data center", str(connection.get("data_center"))),
            ("accounts URL", str(connection.get("accounts_url"))),
        ]
    rows.append(("cache", f"Variable {status['variable']}"))
    for index, lookup in enumerate(status["looked_in"]):
        rows.append(("looked in" if index == 0 else "", f"{lookup['place']}: {lookup['result']}"))
    if not status["looked_in"]:
        rows.append(("looked in", "no secrets backend is configured"))
    rows.append(("state", _STATE_TEXT[status["state"]]))
    for index, item in enumerate(status["ignored"]):
        rows.append(("ignored" if index == 0 else "", f"{item['field']} {item['problem']}"))
    if status["expires_at"]:
        left = status["seconds_left"]
        when = f"in {left} s" if left > 0 else f"{-left} s ago"
        rows.append(
            (
                "expires at",
                f"{status['expires_at']} ({when}; replaced {status['margin_in_force']:.0f} s early)",
            )
        )
    if status["refreshed_at"]:
        rows.append(("refreshed at", status["refreshed_at"]))
    if status["api_domain"]:
        rows.append(("api_domain", status["api_domain"]))
    if status["state"] not in ("absent", "unknown", "unreadable"):
        rows.append(("lease", _lease_text(status)))
    width = max(len(label) for label, _ in rows)
    lines = [f"Zoho access-token cache of connection {status['conn_id']!r}"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    if airflow_3:
        lines.append(
            "  (read-only: outside a running task Airflow 3 cannot write Variables, so commands run here "
            "never update this cache)"
        )
    return "\n".join(lines)


def run_status(args: argparse.Namespace) -> int:
    """
    ``token status``: show the token cache; exit 2 when the connection itself cannot be read.

    :param args: the parsed arguments.
    """
    conn_id = _required(args.conn_id, "--conn-id")
    prepare_airflow(verbose=args.verbose)
    from airflow_provider_zoho.version_compat import AIRFLOW_V_3_0_PLUS

    settings: ZohoConnectionSettings | None = None
    connection_place = connection_error = None
    try:
        settings, connection_place = _connection_settings(conn_id)
    except CliError as error:
        connection_error = str(error)
    raw, place, lookups = read_token_variable(conn_id)
    status = token_status(
        conn_id,
        raw,
        now=time.time(),
        margin_seconds=settings.token_margin_seconds if settings else 300,
        variable_place=place,
        lookups=lookups,
        settings=settings,
        connection_place=connection_place,
        connection_error=connection_error,
    )
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(format_status(status, airflow_3=AIRFLOW_V_3_0_PLUS))
    return EXIT_USAGE if connection_error else EXIT_OK


# -- entry point --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run ``python -m airflow_provider_zoho``; return the exit code.

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
