"""
``auth exchange``: a Self Client grant code for a refresh token, and a ready connection command.

The grant code lives 3 minutes and works once. The refresh token is printed once, clearly labelled, with a
ready ``airflow connections add`` command. The client secret and the refresh token appear in that command
only with ``--show-secrets``; by default it holds the placeholders ``'<client secret>'`` and
``'<refresh token>'``, so the command can be pasted into a ticket or a runbook and the secrets never reach
shell history by accident. The access token Zoho issues with the refresh token is never printed: the hook
mints its own when it needs one.

The options are checked by the connection's own rules (``hooks.zoho_connection``) and Zoho's refusals
explained by the token endpoint's own mapping (``hooks.zoho_http.token_endpoint_error``); this module adds
only what names its options. The exchange is never retried: a grant code works once.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from airflow_provider_zoho.cli import EXIT_OK, PROG, add_conn_id, prepare_airflow, required
from airflow_provider_zoho.get_provider_info import DATA_CENTERS

if TYPE_CHECKING:
    import argparse

    import requests

    from airflow_provider_zoho.exceptions import ZohoError

CLIENT_SECRET_PLACEHOLDER = "<client secret>"
REFRESH_TOKEN_PLACEHOLDER = "<refresh token>"
#: Environment variables read when ``--client-id`` / ``--client-secret`` are not given (keeps the secret
#: out of ``ps`` and shell history).
CLIENT_ID_ENV = "ZOHO_CLIENT_ID"
CLIENT_SECRET_ENV = "ZOHO_CLIENT_SECRET"
#: (connect, read) timeout of the code exchange. A grant code is single-use, so the exchange is never
#: retried automatically.
EXCHANGE_TIMEOUT = (10.0, 30.0)
#: ``--data-center`` values people try, and the data center they probably mean.
DATA_CENTER_HINTS = {"us": "com", "au": "com.au", "cn": "com.cn", "zohocloud.ca": "ca"}


#: The one-line help of ``auth exchange``.
HELP = "exchange a Self Client grant code for a refresh token"
#: What ``auth exchange --help`` says first.
DESCRIPTION = (
    "Exchange a Self Client grant code for a refresh token and print a ready "
    "'airflow connections add' command. A grant code lives 3 minutes (the console's default) and "
    "works once: generate it (scope JProxy.jmobileapi.ALL for Apptics) right before running this."
)
#: What ``auth exchange --help`` says last.
EPILOG = (
    "The refresh token is printed once, labelled; store it at once. The printed command holds "
    f"the placeholders '{CLIENT_SECRET_PLACEHOLDER}' and '{REFRESH_TOKEN_PLACEHOLDER}' unless "
    "--show-secrets is given. The access token is never printed."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the options of ``auth exchange``.

    :param parser: the command's parser.
    """
    parser.epilog = EPILOG
    parser.add_argument(
        "--code", required=True, help="the grant code from the Self Client's Generate Code tab"
    )
    parser.add_argument(
        "--client-id", help=f"the Self Client's Client ID (default: ${CLIENT_ID_ENV})", metavar="ID"
    )
    parser.add_argument(
        "--client-secret",
        help=f"the Self Client's Client Secret (default: ${CLIENT_SECRET_ENV}, which keeps it out of "
        "shell history)",
        metavar="SECRET",
    )
    parser.add_argument(
        "--data-center",
        default="com",
        metavar="DC",
        help=f"where the Self Client is registered: {', '.join(DATA_CENTERS)} (default: %(default)s)",
    )
    parser.add_argument(
        "--accounts-url",
        metavar="URL",
        help="accounts server root overriding the data center's (e.g. a proxy or the sandbox); "
        "it is also stored in the connection",
    )
    add_conn_id(parser, help="connection id of the printed command (default: %(default)s)")
    parser.add_argument("--portal-id", help="Apptics portal id (zsoid) for the connection")
    parser.add_argument("--project-id", help="Apptics project id for the connection")
    parser.add_argument(
        "--apptics-url", metavar="URL", help="Apptics server root override for the connection"
    )
    parser.add_argument(
        "--show-secrets",
        action="store_true",
        help="put the real client secret and refresh token into the printed command",
    )


@dataclass(frozen=True)
class NewConnection:
    """
    The ``zoho`` connection the exchange is for, as given on the command line.

    :param conn_id: the connection id of the printed command.
    :param client_id: the Self Client's id (not secret; always shown).
    :param client_secret: its secret (shown only with ``--show-secrets``).
    :param data_center: one of ``DATA_CENTERS``.
    :param accounts_url: the ``--accounts-url`` override, or ``None`` for the data center's server.
    :param apptics_url: the ``--apptics-url`` override, if any.
    :param portal_id: the Apptics portal id, if given.
    :param project_id: the Apptics project id, if given.
    """

    conn_id: str
    client_id: str
    client_secret: str = field(repr=False)
    data_center: str = "com"
    accounts_url: str | None = None
    apptics_url: str | None = None
    portal_id: str | None = None
    project_id: str | None = None

    def with_options(self, args: argparse.Namespace, code: str) -> NewConnection:
        """
        This connection with the other options of ``args``, checked by the connection's own field rules.

        :param args: the parsed arguments.
        :param code: the grant code, which no message may show (nor the client secret).
        :raises ZohoConfigError: naming the option, before any request.
        """
        from airflow_provider_zoho.hooks.zoho_connection import (
            parse_data_center,
            validate_digits,
            validate_root_url,
        )

        secrets = (self.client_secret, code)

        def url(option: str, value: str | None) -> str | None:
            example = "https://accounts.zoho.eu"
            return validate_root_url(value, option, example=example, secrets=secrets) if value else None

        def digits(option: str, value: str | None) -> str | None:
            blank = value is None or not value.strip()
            return None if blank else validate_digits(value, option, secrets=secrets)

        return replace(
            self,
            data_center=parse_data_center(
                args.data_center, "--data-center", secrets=secrets, hints=DATA_CENTER_HINTS
            ),
            accounts_url=url("--accounts-url", args.accounts_url),
            apptics_url=url("--apptics-url", args.apptics_url),
            portal_id=digits("--portal-id", args.portal_id),
            project_id=digits("--project-id", args.project_id),
        )

    @property
    def accounts_server(self) -> str:
        """The accounts server the code is exchanged at: ``--accounts-url``, else the data center's."""
        from airflow_provider_zoho.hooks.zoho_connection import ACCOUNTS_HOSTS, default_root_url

        return self.accounts_url or default_root_url(ACCOUNTS_HOSTS, self.data_center)

    def extras(self, refresh_token: str) -> dict[str, str]:
        """
        The connection's ``extra``, in the connection form's order, without empty values.

        :param refresh_token: the refresh token, or a placeholder.
        """
        extras = {
            "refresh_token": refresh_token,
            "data_center": self.data_center,
            "portal_id": self.portal_id,
            "project_id": self.project_id,
            "accounts_url": self.accounts_url,
            "apptics_url": self.apptics_url,
        }
        return {key: value for key, value in extras.items() if value}

    def add_command(self, *, client_secret: str, refresh_token: str) -> str:
        """
        An ``airflow connections add`` command, one option per line, every value quoted with ``shlex.quote``.

        :param client_secret: the connection's password, or a placeholder.
        :param refresh_token: the refresh token, or a placeholder.
        """
        lines = [
            ["airflow", "connections", "add", self.conn_id],
            ["--conn-type", "zoho"],
            ["--conn-login", self.client_id],
            ["--conn-password", client_secret],
            ["--conn-extra", json.dumps(self.extras(refresh_token))],
        ]
        return " \\\n    ".join(" ".join(shlex.quote(part) for part in line) for line in lines)


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


def grant_code_error(body: Any, status: int, url: str, connection: NewConnection, code: str) -> ZohoError:
    """
    Turn a failed answer of the code exchange into an error that says what to do.

    Zoho's refusals are explained by the token endpoint's mapping (``token_endpoint_error``, for the
    authorization-code grant), with this command's options added as hints. An answer without an error
    code that is not a success (an HTML error page, a proxy) is not from Zoho Accounts at all.

    :param body: the decoded JSON body (``{"error": ...}``), or ``None``.
    :param status: the HTTP status (Zoho answers most errors with 200).
    :param url: the token endpoint called.
    :param connection: the connection the exchange is for.
    :param code: the grant code sent: Zoho's text is scrubbed of it (and of the client secret).
    """
    from airflow_provider_zoho.exceptions import ZohoAPIError
    from airflow_provider_zoho.hooks.zoho_connection import ACCOUNTS_HOSTS
    from airflow_provider_zoho.hooks.zoho_http import (
        AUTHORIZATION_CODE_GRANT,
        THROTTLE_ERRORS,
        TokenRequest,
        strip_query,
        token_endpoint_error,
        zoho_error_code,
    )

    accounts_url = connection.accounts_server
    if zoho_error_code(body) is None and (body is None or status >= 400):
        return ZohoAPIError(
            f"{accounts_url} did not answer like Zoho Accounts (HTTP {status}, "
            f"{'no JSON body' if body is None else 'no error code'}). Check --data-center / --accounts-url; "
            "Zoho may also be unavailable, then wait and generate a new code.",
            status_code=status,
            url=strip_query(url),
        )
    if connection.accounts_url is not None:
        where = (
            "--accounts-url overrides the data center's server: point it at the accounts server where the "
            "Self Client is registered."
        )
    else:
        others = (f"{dc} ({ACCOUNTS_HOSTS[dc]})" for dc in DATA_CENTERS if dc != connection.data_center)
        where = f"Other data centers: {', '.join(others)}."
    unknown_client = (
        "Pass --data-center with the domain you log in at; otherwise copy the Client ID and Secret again "
        f"from the Self Client's 'Client Secret' tab. {where}"
    )
    hints = {
        "invalid_client": unknown_client,
        "invalid_client_secret": unknown_client,
        **dict.fromkeys(THROTTLE_ERRORS, "Wait a few minutes, generate a new code and try again."),
    }
    request = TokenRequest(
        AUTHORIZATION_CODE_GRANT, accounts_url, connection.data_center, (connection.client_secret, code)
    )
    return token_endpoint_error(body, status, url, request, hints=hints)


def exchange_grant_code(
    code: str, connection: NewConnection, session: requests.Session | None = None
) -> ExchangeResult:
    """
    POST ``{accounts_url}/oauth/v2/token`` with ``grant_type=authorization_code``; never retried.

    :param code: the grant code.
    :param connection: the connection the exchange is for (client, data center, accounts server).
    :param session: the HTTP session to use (a new one by default).
    :raises ZohoError: when Zoho refuses, cannot be reached or answers something unusable.
    """
    import requests

    from airflow_provider_zoho import __version__
    from airflow_provider_zoho.exceptions import ZohoAPIError
    from airflow_provider_zoho.hooks.zoho_http import AUTHORIZATION_CODE_GRANT, json_or_none

    accounts_url = connection.accounts_server
    url = f"{accounts_url}/oauth/v2/token"
    form = {
        "grant_type": AUTHORIZATION_CODE_GRANT,
        "client_id": connection.client_id,
        "client_secret": connection.client_secret,
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
    body = json_or_none(response)
    if isinstance(body, dict) and body.get("refresh_token") and "error" not in body and response.ok:
        return ExchangeResult(
            refresh_token=str(body["refresh_token"]),
            api_domain=body.get("api_domain"),
            scope=body.get("scope"),
            token_url=url,
        )
    raise grant_code_error(body, response.status_code, url, connection, code)


def format_exchange(result: ExchangeResult, connection: NewConnection, *, show_secrets: bool) -> str:
    """
    The text printed after a successful exchange: the labelled refresh token and the connection command.

    :param result: the exchange's result.
    :param connection: the connection to create.
    :param show_secrets: put the real secrets into the command instead of placeholders.
    """
    command = connection.add_command(
        client_secret=connection.client_secret if show_secrets else CLIENT_SECRET_PLACEHOLDER,
        refresh_token=result.refresh_token if show_secrets else REFRESH_TOKEN_PLACEHOLDER,
    )
    details = ", ".join(
        item
        for item in (
            f"data center {connection.data_center}",
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
    if not (connection.portal_id and connection.project_id):
        lines.append(
            'Apptics extraction also needs "portal_id" and "project_id" in --conn-extra (the numbers after '
            "/ac/ and /dashboard/ in Apptics URLs)."
        )
    lines += [
        "The access token Zoho issued with it is not shown: the hook mints and caches its own.",
        "Zoho keeps at most 20 refresh tokens per user and client; exchanging more codes revokes the oldest.",
        f"Then check the connection: {PROG} auth check --conn-id {shlex.quote(connection.conn_id)}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """
    ``auth exchange``: check the options, exchange the code, print the result.

    :param args: the parsed arguments.
    """
    code = required(args.code, "--code")
    connection = NewConnection(
        client_id=required(args.client_id, "--client-id", CLIENT_ID_ENV),
        client_secret=required(args.client_secret, "--client-secret", CLIENT_SECRET_ENV),
        conn_id=required(args.conn_id, "--conn-id"),
    )
    prepare_airflow(verbose=args.verbose, metadata_db=False)  # the connection's rules import Airflow
    connection = connection.with_options(args, code)
    result = exchange_grant_code(code, connection)
    print(format_exchange(result, connection, show_secrets=args.show_secrets))
    return EXIT_OK
