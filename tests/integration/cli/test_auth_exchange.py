"""``auth exchange`` against the sandbox's accounts server: a real grant code, used once."""

from __future__ import annotations

from airflow_provider_zoho.sandbox import ZohoSandbox
from tests.integration.cli.conftest import (
    TOKEN_SHAPE,
    apptics_options,
    cli,
    command_of,
    connection_from_command,
    exchange,
)


def test_exchange_then_reuse_of_the_same_code(airflow_db, zoho):
    code = zoho.issue_grant_code()
    first = exchange(
        airflow_db,
        zoho,
        code,
        "--conn-id",
        "zoho_new",
        *apptics_options(zoho),
    )
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    lines = first.stdout.splitlines()
    label = lines.index(next(line for line in lines if line.startswith("Refresh token")))
    refresh_token = lines[label + 1].strip()
    # The refresh token is the only token in the output (the access token Zoho issued is not), once.
    assert TOKEN_SHAPE.findall(first.stdout) == [refresh_token]
    assert zoho.client_secret not in first.stdout
    assert zoho.stats()["refresh_tokens_issued"] == 1
    command = command_of(first.stdout)
    assert "--conn-password '<client secret>'" in command

    # The printed command, with the placeholders filled in, makes a working connection.
    conn = connection_from_command(command, password=zoho.client_secret, refresh_token=refresh_token)
    check = cli(airflow_db, "auth", "check", "--conn-id", "zoho_new", AIRFLOW_CONN_ZOHO_NEW=conn)
    assert check.returncode == 0, check.stderr
    assert f"portal {zoho.portal_id} and project {zoho.project_id} are readable" in check.stdout
    assert zoho.stats()["mints_by_refresh_token"] == {"issued-1": 2}  # exchange + check, new token used

    again = exchange(airflow_db, zoho, code)
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.startswith("error: Zoho rejected the grant code: it expired")
    assert "already used" in again.stderr
    assert "Traceback" not in again.stderr
    assert zoho.stats()["token_errors"] == {"invalid_code": 1}


def test_expired_code(airflow_db, zoho):
    code = zoho.issue_grant_code(expires_in=0)
    result = exchange(airflow_db, zoho, code)
    assert result.returncode == 1
    assert "3 minutes" in result.stderr
    assert "Zoho error 'invalid_code'" in result.stderr


def test_wrong_data_center_names_it_and_leaves_the_code_usable(airflow_db, zoho):
    code = zoho.issue_grant_code()
    with ZohoSandbox(client_id="1000.OTHERDCCLIENT", client_secret="other-dc-secret") as other_dc:
        other_url = other_dc.url
        wrong = exchange(airflow_db, zoho, code, "--data-center", "in", "--accounts-url", other_url)
        assert other_dc.stats()["token_errors"] == {"invalid_client": 1}
    assert wrong.returncode == 1
    assert wrong.stdout == ""
    assert f"Zoho Accounts at {other_url} (data center 'in') does not know this client" in wrong.stderr
    assert "wrong data center" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    right = exchange(airflow_db, zoho, code)
    assert right.returncode == 0, right.stderr
    assert zoho.stats()["refresh_tokens_issued"] == 1
