from __future__ import annotations

import json
import types
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_zoho.exceptions import (
    ZohoConfigError,
)
from airflow_provider_zoho.hooks import zoho_connection
from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook
from airflow_provider_zoho.hooks.zoho_connection import ZohoConnectionSettings
from tests.conftest import case_id
from tests.unit.conftest import (
    API,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    connection_json,
)
from tests.unit.hooks.test_token_cache import JSON

NOT_SHOWN = "a value that is not shown (it contains '@')"

# -- connection settings ----------------------------------------------------------------------------------


class TestSettings:
    def test_defaults_follow_the_data_center(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_ZOHO_EU",
            connection_json(extra={"data_center": "eu", "accounts_url": None, "apptics_url": None}),
        )
        settings = ZohoOAuthHook("zoho_eu").settings
        assert settings.accounts_url == "https://accounts.zoho.eu"
        assert settings.apptics_url == "https://apptics.zoho.eu"
        assert settings.desk_url == "https://desk.zoho.eu"
        assert settings.token_margin_seconds == 300
        assert settings.portal_id == "766556673"
        assert settings.desk_org_id is None  # optional: the connection serves Apptics without it

    @pytest.mark.parametrize(
        ("data_center", "desk"),
        [
            ("com", "https://desk.zoho.com"),
            ("eu", "https://desk.zoho.eu"),
            ("in", "https://desk.zoho.in"),
            ("com.au", "https://desk.zoho.com.au"),
            ("jp", "https://desk.zoho.jp"),
            ("ca", "https://desk.zohocloud.ca"),
            ("sa", "https://desk.zoho.sa"),
            ("uk", "https://desk.zoho.uk"),
            ("com.cn", "https://desk.zoho.com.cn"),
        ],
        ids=lambda v: v,
    )
    def test_every_data_center_has_its_desk_server(self, monkeypatch, data_center, desk):
        monkeypatch.setenv("AIRFLOW_CONN_Z", connection_json(extra={"data_center": data_center}))
        assert ZohoOAuthHook("z").settings.desk_url == desk

    def test_desk_fields_are_read(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_Z",
            connection_json(extra={"desk_org_id": 60012345678, "desk_url": "http://127.0.0.1:9/desk/"}),
        )
        settings = ZohoOAuthHook("z").settings
        assert (settings.desk_org_id, settings.desk_url) == ("60012345678", "http://127.0.0.1:9/desk")

    @pytest.mark.parametrize(
        ("data_center", "accounts"),
        [
            ("com", "https://accounts.zoho.com"),
            ("eu", "https://accounts.zoho.eu"),
            ("in", "https://accounts.zoho.in"),
            ("com.au", "https://accounts.zoho.com.au"),
            ("jp", "https://accounts.zoho.jp"),
            ("ca", "https://accounts.zohocloud.ca"),
            ("sa", "https://accounts.zoho.sa"),
            ("uk", "https://accounts.zoho.uk"),
            ("com.cn", "https://accounts.zoho.com.cn"),
        ],
        ids=lambda v: v,
    )
    def test_every_data_center_has_its_accounts_server(self, monkeypatch, data_center, accounts):
        monkeypatch.setenv(
            "AIRFLOW_CONN_Z", connection_json(extra={"data_center": data_center, "accounts_url": ""})
        )
        assert ZohoOAuthHook("z").settings.accounts_url == accounts

    def test_overrides_win_and_lose_trailing_slash(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_Z",
            connection_json(extra={"accounts_url": "http://127.0.0.1:9/", "apptics_url": "http://h:1/x/"}),
        )
        settings = ZohoOAuthHook("z").settings
        assert (settings.accounts_url, settings.apptics_url) == ("http://127.0.0.1:9", "http://h:1/x")

    def test_legacy_prefixed_extras_are_read(self, monkeypatch):
        conn = {
            "conn_type": "zoho",
            "login": CLIENT_ID,
            "password": CLIENT_SECRET,
            "extra": {
                "extra__zoho__refresh_token": REFRESH_TOKEN,
                "extra__zoho__data_center": "in",
                "extra__zoho__portal_id": "42",
                "extra__zoho__token_margin_seconds": "120",
            },
        }
        monkeypatch.setenv("AIRFLOW_CONN_Z", json.dumps(conn))
        settings = ZohoOAuthHook("z").settings
        assert settings.refresh_token == REFRESH_TOKEN
        assert settings.accounts_url == "https://accounts.zoho.in"
        assert settings.portal_id == "42"
        assert settings.token_margin_seconds == 120

    @pytest.mark.parametrize(
        ("overrides", "named"),
        [
            ({"login": ""}, "Client ID (login)"),
            ({"password": None}, "Client Secret (password)"),
            ({"extra": {"refresh_token": ""}}, "'refresh_token'"),
            ({"extra": {"data_center": "us"}}, "unknown data_center 'us'"),
            ({"extra": {"token_margin_seconds": "soon"}}, "token_margin_seconds"),
            ({"extra": {"token_margin_seconds": "***"}}, "the UI's mask: clear the field"),
            ({"extra": {"accounts_url": "accounts.zoho.com"}}, "accounts_url must be an http(s) URL"),
        ],
        ids=[
            "client-id",
            "client-secret",
            "refresh-token",
            "data-center",
            "margin",
            "masked-margin",
            "accounts-url",
        ],
    )
    def test_bad_connection_names_the_field_before_any_request(
        self, monkeypatch, requests_mock, overrides, named
    ):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(**overrides))
        hook = ZohoOAuthHook("bad")
        with pytest.raises(ZohoConfigError, match="Zoho connection 'bad'") as error:
            hook.request("GET", API)
        assert named in str(error.value)
        assert requests_mock.call_count == 0

    def test_unknown_data_center_lists_the_valid_ones(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"data_center": "zoho.com"}))
        with pytest.raises(ZohoConfigError, match=r"com, eu, in, com\.au, jp, ca, sa, uk, com\.cn"):
            _ = ZohoOAuthHook("bad").settings

    def test_secrets_are_not_in_the_repr(self, zoho_conn):
        text = repr(ZohoOAuthHook().settings)
        assert CLIENT_SECRET not in text
        assert REFRESH_TOKEN not in text
        assert CLIENT_ID in text

    def test_constructor_does_no_io(self, monkeypatch):
        monkeypatch.delenv("AIRFLOW_CONN_ZOHO_DEFAULT", raising=False)
        hook = ZohoOAuthHook()  # no connection exists: constructing must still work
        assert hook.zoho_conn_id == "zoho_default"

    @pytest.mark.parametrize("field", ["portal_id", "project_id", "desk_org_id"])
    @pytest.mark.parametrize(
        "value",
        [
            "not-a-number",
            "766556673\r\nX-Injected: 1",
            "７６６５５６６７３",
            "12a",
            "-5",
            "1.5",
            "1 2",
            True,
            1.5,
        ],
        ids=["letters", "crlf", "full-width", "hex", "negative", "decimal", "space", "bool", "float"],
    )
    def test_ids_are_ascii_digits_before_any_request(self, monkeypatch, requests_mock, field, value):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={field: value}))
        with pytest.raises(
            ZohoConfigError, match=f"Zoho connection 'bad': {field} must be a number made of the digits 0-9"
        ):
            ZohoOAuthHook("bad").request("GET", API)
        assert requests_mock.call_count == 0  # neither a mint nor a call

    @pytest.mark.parametrize("value", ["766556673", 766556673, " 42 "], ids=["text", "json-int", "spaces"])
    def test_ids_may_be_json_numbers_or_padded(self, monkeypatch, value):
        monkeypatch.setenv("AIRFLOW_CONN_Z", connection_json(extra={"portal_id": value}))
        assert ZohoOAuthHook("z").settings.portal_id == str(value).strip()

    @pytest.mark.parametrize("field", ["accounts_url", "apptics_url", "desk_url"])
    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            ("ftp://host", "the scheme is not http or https"),
            ("http://host/?next=1", "a query (?...) or fragment (#...)"),
            ("http://host/#top", "a query (?...) or fragment (#...)"),
            ("http://host:99999", "the port is not a number from 1 to 65535"),
            ("http://host:0", "the port is not a number from 1 to 65535"),
            ("http://host:", "the port is not a number from 1 to 65535"),
            ("http://host:http", "the port is not a number from 1 to 65535"),
            ("http:///path", "the host is missing"),
            ("http://ho%st", "the host is missing"),
            ("http://host/a b", "visible ASCII, no spaces"),
            ("http://host\r\nX: 1", "visible ASCII, no spaces"),
            ("http://hőst", "visible ASCII, no spaces"),
            (["http://host"], "visible ASCII, no spaces"),
        ],
        ids=lambda v: case_id(v, 30),
    )
    def test_url_overrides_are_bare_server_roots(self, monkeypatch, requests_mock, field, value, problem):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={field: value}))
        with pytest.raises(ZohoConfigError) as error:
            ZohoOAuthHook("bad").request("GET", API)
        assert f"Zoho connection 'bad': {field} must be an http(s) URL of the form" in str(error.value)
        assert problem in str(error.value)
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize("field", ["accounts_url", "apptics_url", "desk_url"])
    def test_url_with_user_info_is_refused_without_showing_it(self, monkeypatch, requests_mock, field):
        monkeypatch.setenv(
            "AIRFLOW_CONN_BAD", connection_json(extra={field: "http://admin:pw-9f3e@proxy:8080"})
        )
        with pytest.raises(ZohoConfigError, match=f"{field} must be an http.*user name or password") as error:
            ZohoOAuthHook("bad").request("GET", API)
        assert "pw-9f3e" not in str(error.value)
        assert "admin" not in str(error.value)
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize(
        "value",
        ["http://admin:pw-9f3e@proxy:8080 ", "http://admin:pw-9f3e @proxy", "http://h/?u=admin:pw-9f3e@x"],
    )
    def test_a_refused_url_with_an_at_sign_is_never_shown(self, monkeypatch, value):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"apptics_url": value + "\r\n"}))
        with pytest.raises(ZohoConfigError, match="apptics_url must be an http") as error:
            _ = ZohoOAuthHook("bad").settings
        assert "pw-9f3e" not in str(error.value)

    @pytest.mark.parametrize(
        ("value", "root"),
        [
            ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
            ("https://proxy.example.test/zoho/", "https://proxy.example.test/zoho"),
            ("HTTPS://Host:443", "HTTPS://Host:443"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ],
        ids=lambda v: v,
    )
    def test_valid_url_overrides(self, monkeypatch, value, root):
        monkeypatch.setenv("AIRFLOW_CONN_Z", connection_json(extra={"accounts_url": value}))
        assert ZohoOAuthHook("z").settings.accounts_url == root

    @pytest.mark.parametrize(
        "value",
        [-1, 1801, 4000, "1e3", "1.5", 1.5, True, "soon", [300], float("inf"), float("nan")],
        ids=repr,
    )
    def test_margin_is_a_whole_number_up_to_1800(self, monkeypatch, requests_mock, value):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"token_margin_seconds": value}))
        with pytest.raises(
            ZohoConfigError, match="token_margin_seconds must be a whole number of seconds from 0 to 1800"
        ):
            ZohoOAuthHook("bad").request("GET", API)
        assert requests_mock.call_count == 0

    @pytest.mark.parametrize(
        ("value", "margin"),
        [(0, 0), (1800, 1800), ("120", 120), (" 60 ", 60), (90.0, 90), ("", 300), (None, 300)],
        ids=repr,
    )
    def test_valid_margins(self, monkeypatch, value, margin):
        monkeypatch.setenv("AIRFLOW_CONN_Z", connection_json(extra={"token_margin_seconds": value}))
        assert ZohoOAuthHook("z").settings.token_margin_seconds == margin

    def test_extra_that_is_not_an_object_is_a_config_error(self, monkeypatch):
        monkeypatch.setenv(
            "AIRFLOW_CONN_BAD", json.dumps({"conn_type": "zoho", "login": "i", "password": "p", "extra": [1]})
        )
        with pytest.raises(ZohoConfigError, match="the extra must be a JSON object"):
            _ = ZohoOAuthHook("bad").settings

    def test_config_errors_never_show_the_secrets(self, monkeypatch):
        # A secret pasted into the wrong field is refused without being shown.
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"portal_id": CLIENT_SECRET}))
        with pytest.raises(ZohoConfigError, match="portal_id") as error:
            _ = ZohoOAuthHook("bad").settings
        assert CLIENT_SECRET not in str(error.value)

    def test_secrets_are_masked_as_soon_as_the_connection_is_read(self, zoho_conn, mask_calls):
        _ = ZohoOAuthHook().settings
        assert CLIENT_SECRET in mask_calls
        assert REFRESH_TOKEN in mask_calls

    def test_secrets_are_masked_even_when_another_field_is_invalid(self, monkeypatch, mask_calls):
        monkeypatch.setenv("AIRFLOW_CONN_BAD", connection_json(extra={"data_center": "mars"}))
        with pytest.raises(ZohoConfigError):
            _ = ZohoOAuthHook("bad").settings
        assert {CLIENT_SECRET, REFRESH_TOKEN} <= set(mask_calls)


def test_settings_dataclass_is_validated_once(zoho_conn, monkeypatch):
    calls = []
    real = ZohoConnectionSettings.from_connection
    monkeypatch.setattr(ZohoConnectionSettings, "from_connection", lambda c: calls.append(1) or real(c))
    hook = ZohoOAuthHook()
    assert hook.settings is hook.settings
    assert calls == [1]


def _conn(login=CLIENT_ID, password=CLIENT_SECRET, **extra):
    """A connection as ``from_connection`` reads it (no Airflow lookup)."""
    return types.SimpleNamespace(conn_id="c", login=login, password=password, extra_dejson=extra)


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        (
            _conn(login=" "),
            "the Client ID (login) is empty. Copy it from your Self Client in the Zoho API console "
            "(https://api-console.zoho.com, or the console of your data center).",
        ),
        (
            _conn(password=None, refresh_token=REFRESH_TOKEN),
            "the Client Secret (password) is empty. Copy it from the Self Client's 'Client Secret' tab.",
        ),
        (
            _conn(refresh_token=" "),
            "the extra field 'refresh_token' is empty. Generate a grant code for your Self Client "
            "(scope JProxy.jmobileapi.ALL) and exchange it within 3 minutes: "
            "python -m airflow_provider_zoho auth exchange --code ... --client-id ... --client-secret ...",
        ),
        (
            types.SimpleNamespace(conn_id="c", login="i", password="p", extra_dejson=[1]),
            "the extra must be a JSON object of fields, got a list.",
        ),
        (
            _conn(refresh_token=REFRESH_TOKEN, data_center="eu", desk_url="desk.zoho.eu"),
            "desk_url must be an http(s) URL of the form http(s)://host[:port][/path], such as "
            "https://desk.zoho.eu: the scheme is not http or https, got 'desk.zoho.eu'.",
        ),
        (
            _conn(refresh_token=REFRESH_TOKEN, desk_org_id="6001 2"),
            "desk_org_id must be a number made of the digits 0-9 only, got '6001 2'. "
            "Copy it from the product's URL or its settings page.",
        ),
        (
            _conn(refresh_token=REFRESH_TOKEN, token_margin_seconds="***"),
            "token_margin_seconds must be a whole number of seconds from 0 to 1800 (empty means 300), got "
            "'***' (the UI's mask: clear the field and save again).",
        ),
    ],
    ids=["client-id", "client-secret", "refresh-token", "extra", "desk-url", "desk-org-id", "margin"],
)
def test_a_bad_connection_is_named_exactly(conn, message):
    with pytest.raises(ZohoConfigError) as error:
        ZohoConnectionSettings.from_connection(conn)
    assert str(error.value) == f"Zoho connection 'c': {message}"


@pytest.mark.parametrize("extra", [None, ""], ids=["none", "empty"])
def test_a_connection_without_extra_lacks_only_its_refresh_token(extra):
    conn = types.SimpleNamespace(conn_id="c", login="i", password="p", extra_dejson=extra)
    with pytest.raises(
        ZohoConfigError, match=r"^Zoho connection 'c': the extra field 'refresh_token' is empty"
    ):
        ZohoConnectionSettings.from_connection(conn)


def test_text_fields_are_stripped_and_empty_fields_read_the_legacy_names():
    conn = _conn(
        login=" my-id ",
        password=f" {CLIENT_SECRET} ",
        refresh_token=f"\t{REFRESH_TOKEN}\n",
        data_center="",
        extra__zoho__data_center=" EU ",
        portal_id="",
        extra__zoho__portal_id="42",
        project_id="",
        extra__zoho__project_id="",  # both names empty: not given
        desk_org_id="",
        accounts_url="",
        extra__zoho__accounts_url="",
    )
    settings_ = ZohoConnectionSettings.from_connection(conn)
    assert (settings_.client_id, settings_.client_secret, settings_.refresh_token) == (
        "my-id",
        CLIENT_SECRET,
        REFRESH_TOKEN,
    )
    assert (settings_.data_center, settings_.accounts_url) == ("eu", "https://accounts.zoho.eu")
    assert (settings_.portal_id, settings_.project_id, settings_.desk_org_id) == ("42", None, None)


def test_a_connection_without_optional_fields_gets_the_defaults():
    settings_ = ZohoConnectionSettings.from_connection(_conn(refresh_token=REFRESH_TOKEN))
    assert settings_ == ZohoConnectionSettings(
        conn_id="c", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN
    )


@pytest.mark.parametrize(
    "field",
    [
        "data_center",
        "accounts_url",
        "apptics_url",
        "desk_url",
        "portal_id",
        "project_id",
        "desk_org_id",
        "token_margin_seconds",
    ],
)
@pytest.mark.parametrize("secret", [CLIENT_SECRET, REFRESH_TOKEN], ids=["client-secret", "refresh-token"])
def test_a_secret_pasted_into_any_field_is_refused_without_being_shown(field, secret):
    conn = _conn(refresh_token=REFRESH_TOKEN, **{field: f"{secret}x"})
    with pytest.raises(ZohoConfigError, match=f"^Zoho connection 'c': .*{field}") as error:
        ZohoConnectionSettings.from_connection(conn)
    assert secret not in str(error.value)
    assert "'***x'" in str(error.value)


CLIENT_SECRET_P = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=4, max_size=12).map(
    lambda t: f"S3CR3T-{t}"
)
REFRESH_TOKEN_P = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=4, max_size=12).map(
    lambda t: f"1000.R3FRESH-{t}"
)
FIELDS = (
    "refresh_token",
    "data_center",
    "accounts_url",
    "apptics_url",
    "portal_id",
    "project_id",
    "token_margin_seconds",
    "desk_url",
    "desk_org_id",
)
PLAUSIBLE = st.sampled_from(
    [
        "",
        " ",
        "com",
        "EU",
        ".in",
        "http://127.0.0.1:9",
        "https://h/x/",
        "http://u:p@h",
        "http://h/?q",
        "7",
        "1801",
        "***",
    ]
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), secret=CLIENT_SECRET_P, refresh=REFRESH_TOKEN_P)
def test_any_connection_gives_valid_settings_or_a_config_error_without_secrets(
    data, secret, refresh, mask_calls
):
    # Values may be anything JSON holds, plausible ones, or a secret pasted into the wrong field.
    value = st.one_of(JSON, PLAUSIBLE, st.just(secret), st.just(refresh))
    names = st.sampled_from([*FIELDS, *(f"extra__zoho__{name}" for name in FIELDS), "unknown"])
    extra = data.draw(
        st.one_of(st.dictionaries(names, value, max_size=8), st.just({"refresh_token": refresh}), JSON),
        "extra",
    )
    login = data.draw(st.one_of(st.none(), st.text(max_size=10), st.just(CLIENT_ID)), "login")
    password = data.draw(st.one_of(st.none(), st.just(secret)), "password")
    conn = types.SimpleNamespace(conn_id="prop", login=login, password=password, extra_dejson=extra)
    # The connection's secrets: what its password and refresh-token fields hold (the distinctive values).
    held = (
        [password, *(extra.get(k) for k in ("refresh_token", "extra__zoho__refresh_token"))]
        if isinstance(extra, dict)
        else [password]
    )
    secrets = {value for value in held if value in (secret, refresh)}
    try:
        settings_, message = ZohoConnectionSettings.from_connection(conn), ""
    except ZohoConfigError as error:
        settings_, message = None, str(error)
    if settings_ is None:
        assert not [value for value in secrets if value in message]
        return
    assert settings_.client_id
    assert settings_.client_secret
    assert settings_.refresh_token
    assert settings_.data_center in zoho_connection.DATA_CENTERS
    for field in ("accounts_url", "apptics_url", "desk_url"):
        url = getattr(settings_, field)
        assert zoho_connection.validate_root_url(url, field, example="") == url
    for field in ("portal_id", "project_id", "desk_org_id"):
        assert getattr(settings_, field) is None or getattr(settings_, field).isdigit()
    assert 0 <= settings_.token_margin_seconds <= 1800
    assert secret in mask_calls  # registered with the masker on the way


# -- single fields, as the command line uses them -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("eu", "eu"), ("EU", "eu"), (".com.au", "com.au"), (" jp ", "jp"), ("ca", "ca"), (" .UK", "uk")],
    ids=repr,
)
def test_data_center_spellings(value, expected):
    assert zoho_connection.parse_data_center(value) == expected


def test_the_connection_reads_its_data_center_with_the_same_parser(monkeypatch):
    calls = []
    real = zoho_connection.parse_data_center
    monkeypatch.setattr(
        zoho_connection, "parse_data_center", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    monkeypatch.setenv("AIRFLOW_CONN_ZOHO_JP", connection_json(extra={"data_center": " .JP"}))
    assert ZohoOAuthHook("zoho_jp").settings.data_center == "jp"
    assert calls == [(".JP", "data_center")]  # the connection strips its text fields first


@pytest.mark.parametrize(
    ("value", "hints", "shown", "tail"),
    [
        ("us", {"us": "com"}, "'us'", " Did you mean 'com'?"),
        (" US ", {"us": "com"}, "'us'", " Did you mean 'com'?"),
        ("mars", {"us": "com"}, "'mars'", ""),
        ("us", None, "'us'", ""),
        (7, None, "'7'", ""),
    ],
    ids=["hint", "hint-any-spelling", "no-hint", "no-hints", "number"],
)
def test_unknown_data_center_names_the_field_and_lists_them(value, hints, shown, tail):
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.parse_data_center(value, "--data-center", context="ctx: ", hints=hints)
    assert str(error.value) == (
        f"ctx: unknown --data-center {shown}. Use one of com, eu, in, com.au, jp, ca, sa, uk, com.cn: the "
        f"domain of accounts.zoho.<data center> you log in at (ca is accounts.zohocloud.ca).{tail}"
    )


def test_unknown_data_center_never_shows_a_secret():
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.parse_data_center("my-secret-value", secrets=["my-secret-value"])
    assert "my-secret-value" not in str(error.value)
    assert "unknown data_center '***'" in str(error.value)


@pytest.mark.parametrize(
    ("hosts", "data_center", "url"),
    [
        (zoho_connection.ACCOUNTS_HOSTS, "eu", "https://accounts.zoho.eu"),
        (zoho_connection.ACCOUNTS_HOSTS, "ca", "https://accounts.zohocloud.ca"),
        (zoho_connection.APPTICS_HOSTS, "com.au", "https://apptics.zoho.com.au"),
    ],
    ids=["accounts-eu", "accounts-ca", "apptics-com.au"],
)
def test_default_root_url(hosts, data_center, url):
    assert zoho_connection.default_root_url(hosts, data_center) == url


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ftp://host", ": the scheme is not http or https"),
        ("http:///path", ": the host is missing or not a host name"),
        ("http://host/?next=1", ": a query (?...) or fragment (#...) has no place in a server root"),
        ("http://host:0", ": the port is not a number from 1 to 65535"),
        ("http://host:99999", ": the port is not a number from 1 to 65535"),
        ("http://host:", ": the port is not a number from 1 to 65535"),
        ("http://host/a b", " (visible ASCII, no spaces)"),
        (["http://host"], " (visible ASCII, no spaces)"),
    ],
    ids=["scheme", "host", "query", "port-0", "port-too-big", "port-empty", "space", "list"],
)
def test_a_refused_server_root_is_named_exactly(value, problem):
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.validate_root_url(value, "--accounts-url", example="https://accounts.zoho.eu")
    assert str(error.value) == (
        "--accounts-url must be an http(s) URL of the form http(s)://host[:port][/path], such as "
        f"https://accounts.zoho.eu{problem}, got {value!r}."
    )


@pytest.mark.parametrize(
    ("value", "root"),
    [
        (" \thttps://h:1/x/ \n", "https://h:1/x"),  # whitespace around is stripped
        ("https://h/X/", "https://h/X"),  # only slashes are cut at the end
        ("https://h/X", "https://h/X"),
    ],
    ids=case_id,
)
def test_a_server_root_is_stripped_and_loses_its_trailing_slashes_only(value, root):
    assert zoho_connection.validate_root_url(value, "accounts_url", example="https://e") == root


@pytest.mark.parametrize(
    ("value", "tail"),
    [
        (
            "http://admin:pw-9f3e@proxy",
            ": it contains a user name or password (user:password@host), which Zoho does not use; remove it "
            "(the value is not shown because it may hold a password).",
        ),
        ("http://admin:pw-9f3e@proxy/a b", " (visible ASCII, no spaces), got " + NOT_SHOWN + "."),
        (
            "http://h/?u=admin:pw-9f3e@x",
            ": a query (?...) or fragment (#...) has no place in a server root, got " + NOT_SHOWN + ".",
        ),
    ],
    ids=["user-info", "space", "query"],
)
def test_a_refused_server_root_with_an_at_sign_is_named_exactly_and_not_shown(value, tail):
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.validate_root_url(value, "desk_url", example="https://desk.zoho.eu", context="ctx: ")
    assert str(error.value) == (
        "ctx: desk_url must be an http(s) URL of the form http(s)://host[:port][/path], such as "
        f"https://desk.zoho.eu{tail}"
    )


def test_an_unknown_data_center_is_named_exactly_by_default():
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.parse_data_center(" .Mars ")
    assert str(error.value) == (
        "unknown data_center 'mars'. Use one of com, eu, in, com.au, jp, ca, sa, uk, com.cn: the domain of "
        "accounts.zoho.<data center> you log in at (ca is accounts.zohocloud.ca)."
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [("a" * 58, repr("a" * 58)), ("a" * 59, "'" + "a" * 56 + "...")],
    ids=["60-shown-whole", "61-cut-to-60"],
)
def test_a_refused_value_is_shown_in_60_characters_at_most(value, shown):
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.validate_digits(value, "portal_id")
    assert f"got {shown}. Copy it" in str(error.value)
    assert len(shown) == 60


class _TextIsDigits:
    """Neither text nor an integer, though its text is digits."""

    def __str__(self) -> str:
        return "12"

    def __repr__(self) -> str:
        return "<digits>"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("12a", "'12a'"),
        ("X12X", "'X12X'"),  # only spaces are stripped
        ("X12", "'X12'"),
        ("\t12", "'\\t12'"),  # a tab or a newline around the digits is refused
        ("12\n", "'12\\n'"),
        (" 12\r\n", "' 12\\r\\n'"),
        (True, "True"),  # a bool is an int in Python, not an id
        (Decimal("12"), "Decimal('12')"),  # text or a JSON integer only, whatever its text
        (_TextIsDigits(), "<digits>"),
        (12.0, "12.0"),
        ("", "''"),
        (None, "None"),
    ],
    ids=[
        "letters",
        "x-around",
        "x-before",
        "tab",
        "newline",
        "crlf",
        "bool",
        "decimal",
        "object",
        "float",
        "empty",
        "none",
    ],
)
def test_an_id_that_is_not_digits_is_refused_with_an_exact_message(value, shown):
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.validate_digits(value, "portal_id")
    assert str(error.value) == (
        f"portal_id must be a number made of the digits 0-9 only, got {shown}. "
        "Copy it from the product's URL or its settings page."
    )


@pytest.mark.parametrize(
    ("refuse", "message"),
    [
        (
            lambda: zoho_connection.validate_root_url(
                "S3CR3T-x", "desk_url", example="https://e", secrets=["S3CR3T-x"]
            ),
            "desk_url must be an http(s) URL of the form http(s)://host[:port][/path], such as "
            "https://e: the scheme is not http or https, got '***'.",
        ),
        (
            lambda: zoho_connection.validate_digits(
                "S3CR3T-x", "--portal-id", context="ctx: ", secrets=["S3CR3T-x"]
            ),
            "ctx: --portal-id must be a number made of the digits 0-9 only, got '***'. "
            "Copy it from the product's URL or its settings page.",
        ),
    ],
    ids=["server-root", "id-with-context"],
)
def test_a_refused_value_never_shows_a_secret(refuse, message):
    with pytest.raises(ZohoConfigError) as error:
        refuse()
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", "12"), (" 12  ", "12"), (12, "12"), ("007", "007"), (0, "0")],
    ids=["text", "spaces", "json-int", "leading-zeros", "zero"],
)
def test_an_id_is_digits_with_spaces_around_at_most(value, expected):
    assert zoho_connection.validate_digits(value, "portal_id") == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("soon", "'soon'"),
        ("***", "'***' (the UI's mask: clear the field and save again)"),  # the hint only for the mask
        ("**", "'**'"),
        (1801, "1801"),
        (-1, "-1"),
        (True, "True"),  # a bool is an int in Python, not a number of seconds
        (1.5, "1.5"),
        ([300], "[300]"),
    ],
    ids=["letters", "mask", "two-stars", "too-long", "negative", "bool", "float", "list"],
)
def test_a_refused_margin_is_named_exactly(value, shown):
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.validate_margin(value)
    assert str(error.value) == (
        "token_margin_seconds must be a whole number of seconds from 0 to 1800 (empty means 300), "
        f"got {shown}."
    )


def test_a_margin_message_starts_with_its_context_and_never_shows_a_secret():
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.validate_margin("S3CR3T-x", context="ctx: ", secrets=("S3CR3T-x",))
    assert str(error.value) == (
        "ctx: token_margin_seconds must be a whole number of seconds from 0 to 1800 (empty means 300), "
        "got '***'."
    )


def test_a_secret_pasted_into_the_data_center_is_not_shown_lower_cased():
    # the data center is shown as read (stripped, lower-cased): a secret in it must not show that way either
    with pytest.raises(ZohoConfigError) as error:
        zoho_connection.parse_data_center(" S3CR3T-Value ", secrets=("S3CR3T-Value",))
    assert "s3cr3t" not in str(error.value).lower()
    assert "unknown data_center '***'." in str(error.value)
