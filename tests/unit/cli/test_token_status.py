"""``token status``: the shared token cache as a task would judge it, never the token."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_zoho.cli import lookup
from airflow_provider_zoho.cli.lookup import Lookup, Search
from airflow_provider_zoho.cli.token_status import ConnectionRead, cache_status, format_status
from tests.unit.cli.conftest import ACCESS, CACHE_VAR, BrokenBackend, DictBackend, run
from tests.unit.hooks.test_token_cache import JSON, NOW, RECORDS


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

    def status(self, value, lookups=(), place="metadata database"):
        variable = Search(
            value, place if value is not None else None, tuple(Lookup(*item) for item in lookups)
        )
        return cache_status("zoho_default", variable, ConnectionRead(), now=self.NOW)

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
        text = format_status(status, airflow_3=False)
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
        text = format_status(status, airflow_3=False)
        assert "nobody is minting" not in text
        assert "lease         unreadable (see 'ignored'); tasks treat it as no lease" in text
        assert status["ignored"][0]["field"] == "lease"

    def test_far_future_values_do_not_break_the_display(self):
        status = self.status(
            record(self.NOW, expires_at=1e18, lease={"owner": "ghost", "until": 1e300}, refreshed_at=1e17)
        )
        assert status["state"] == "valid"
        text = format_status(status, airflow_3=False)
        assert "1e+18 (epoch seconds, not a date)" in text
        assert "held by 'ghost' until 1e+300 (epoch seconds, not a date)" in text
        assert "tasks wait at most 30 s for it unless its holder renews it" in text

    def test_state_follows_the_caches_margin_rule(self):
        # Zoho granted 200 s and 150 s are left: a task would use it (the margin in force is 100 s).
        status = self.status(record(self.NOW, expires_at=self.NOW + 150, refreshed_at=self.NOW - 50))
        assert status["state"] == "valid"
        assert status["margin_in_force"] == 100.0
        assert "(in 150 s; replaced 100 s early)" in format_status(status, airflow_3=False)

    def test_command_survives_an_infinite_expiry(self, capsys, monkeypatch, zoho_conn):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        monkeypatch.setenv(CACHE_VAR, json.dumps({"access_token": ACCESS, "expires_at": "inf", "lease": "x"}))
        monkeypatch.setattr(lookup, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
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
        text = format_status(status, airflow_3=True)
        assert ACCESS not in text
        assert "2026-01-01T00:50:00Z (in 3000 s; replaced 300 s early)" in text
        assert "held by 'worker-1:42:abcd' until 2026-01-01T00:00:20Z (20 s left)" in text
        assert "looked in     environment variable AIRFLOW_VAR_X: not set" in text
        assert "              metadata database: found" in text
        assert "read-only" in text
        assert "read-only" not in format_status(status, airflow_3=False)

    def test_command_reads_the_variable_and_the_connection(self, capsys, monkeypatch, zoho_conn):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        now = time.time()
        monkeypatch.setenv(CACHE_VAR, json.dumps(record(now, expires_at=now + 1800)))
        monkeypatch.setattr(lookup, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
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
        monkeypatch.setattr(lookup, "secrets_backends", lambda: backends)
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

        monkeypatch.setattr(lookup, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
        code, out, _ = run(capsys, "token", "status", "--conn-id", "gone")
        assert code == 2
        assert re.search(r"connection +not usable: connection 'gone' not found", out)
        assert "no cache yet" in out


class TestMargin:
    NOW = 1_767_225_600.0

    def test_without_a_connection_the_margin_is_the_connections_default(self, capsys, monkeypatch):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        from airflow_provider_zoho.hooks import zoho_connection

        monkeypatch.setattr(zoho_connection, "DEFAULT_TOKEN_MARGIN_SECONDS", 600)
        monkeypatch.setattr(lookup, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
        code, out, _ = run(capsys, "token", "status", "--conn-id", "gone", "--json")
        assert code == 2
        assert json.loads(out)["margin_seconds"] == 600

    def test_the_connections_margin_decides_like_a_task(self, capsys, monkeypatch):
        from airflow.secrets.environment_variables import EnvironmentVariablesBackend

        from tests.unit.conftest import connection_json

        now = time.time()
        # An hour-long token with 700 s left: usable under a 600 s margin, not under 900 s.
        monkeypatch.setenv(CACHE_VAR, json.dumps(record(now, expires_at=now + 700, refreshed_at=now - 2900)))
        monkeypatch.setattr(lookup, "secrets_backends", lambda: [EnvironmentVariablesBackend()])
        states = {}
        for margin in (600, 900):
            extra = {"token_margin_seconds": margin}
            monkeypatch.setenv("AIRFLOW_CONN_ZOHO_DEFAULT", connection_json(extra=extra))
            code, out, _ = run(capsys, "token", "status", "--json")
            assert code == 0
            status = json.loads(out)
            assert status["margin_seconds"] == margin
            states[margin] = status["state"]
        assert states == {600: "valid", 900: "expiring"}

    @pytest.mark.parametrize(
        ("expires_in", "state"), [(-1, "expired"), (0, "expired"), (1, "expiring")], ids=repr
    )
    def test_expired_means_not_usable_even_without_a_margin(self, expires_in, state):
        variable = Search(json.dumps(record(self.NOW, expires_at=self.NOW + expires_in)), "metadata database")
        assert cache_status("zoho_default", variable, ConnectionRead(), now=self.NOW)["state"] == state


@settings(max_examples=300)
@given(
    value=st.one_of(JSON, RECORDS, RECORDS.map(json.dumps), st.text(max_size=40)),
    margin=st.integers(0, 1800),
)
def test_any_cached_value_is_judged_by_the_caches_rule_and_never_shown(value, margin):
    from airflow_provider_zoho.hooks.token_cache import parse_record
    from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings

    settings_ = ZohoConnectionSettings("c", "id", "secret", "1000.r", token_margin_seconds=margin)
    variable = Search(value, "metadata database" if value is not None else None)
    status = cache_status("c", variable, ConnectionRead(settings_, "somewhere"), now=NOW)
    token = parse_record(value).token
    assert (status["state"] == "valid") == (token is not None and token.usable(margin, NOW))
    assert (status["state"] in ("valid", "expiring")) == (token is not None and token.usable(0, NOW))
    text = json.dumps(status) + format_status(status, airflow_3=True)
    if token is not None and token.access_token.startswith("1000."):  # Zoho-shaped: never in the output
        assert token.access_token not in text
