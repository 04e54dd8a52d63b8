from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import types
from pathlib import Path

import airflow
import pytest

from airflow_provider_zoho.get_provider_info import DATA_CENTERS, TOKEN_MARGIN_MAX_SECONDS, get_provider_info
from airflow_provider_zoho.hooks.zoho import ZohoOAuthHook

AIRFLOW_DIR = Path(airflow.__file__).parent
ZOHO = get_provider_info()["connection-types"][0]


def test_package_name_matches_the_distribution():
    # A mismatch makes ProvidersManager raise and breaks discovery of every provider.
    assert get_provider_info()["package-name"] == importlib.metadata.metadata("airflow-provider-zoho")["Name"]


def test_valid_against_the_runtime_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_connection_type_valid_against_the_strict_schema():
    jsonschema = pytest.importorskip("jsonschema")
    strict = json.loads((AIRFLOW_DIR / "provider.yaml.schema.json").read_text())
    item_schema = strict["properties"]["connection-types"]["items"]
    if "conn-fields" not in item_schema.get("properties", {}):
        pytest.skip("this Airflow's provider.yaml schema predates declarative conn-fields (Airflow < 3.2)")
    jsonschema.validate(ZOHO, item_schema)


def test_connection_form_is_what_design_specifies():
    fields = ZOHO["conn-fields"]
    assert set(fields) == {
        "refresh_token",
        "data_center",
        "portal_id",
        "project_id",
        "accounts_url",
        "apptics_url",
        "desk_org_id",
        "desk_url",
        "token_margin_seconds",
    }
    assert fields["refresh_token"]["schema"]["format"] == "password"
    assert fields["desk_url"]["schema"]["format"] == "url"
    assert "desk.zohocloud.ca" in fields["desk_url"]["description"]
    assert "orgId" in fields["desk_org_id"]["description"]
    assert fields["data_center"]["schema"]["enum"] == [
        "com",
        "eu",
        "in",
        "com.au",
        "jp",
        "ca",
        "sa",
        "uk",
        "com.cn",
    ]
    assert fields["data_center"]["schema"]["default"] == "com"
    # A default would reach the UI masked ("***": the name contains "token") and be saved as such.
    assert "default" not in fields["token_margin_seconds"]["schema"]
    margin = fields["token_margin_seconds"]["schema"]
    assert (margin["minimum"], margin["maximum"]) == (0, TOKEN_MARGIN_MAX_SECONDS) == (0, 1800)
    behaviour = ZOHO["ui-field-behaviour"]
    assert sorted(behaviour["hidden-fields"]) == ["host", "port", "schema"]
    assert behaviour["relabeling"] == {"login": "Client ID", "password": "Client Secret"}
    assert set(behaviour["placeholders"]) == {
        "login",
        "portal_id",
        "project_id",
        "accounts_url",
        "apptics_url",
        "desk_org_id",
        "desk_url",
    }
    assert ZOHO["hook-name"] == ZohoOAuthHook.hook_name == "Zoho"
    assert ZOHO["connection-type"] == ZohoOAuthHook.conn_type
    assert ZOHO["hook-class-name"] == f"{ZohoOAuthHook.__module__}.{ZohoOAuthHook.__qualname__}"


def test_get_provider_info_is_import_free():
    code = (
        "import sys; from airflow_provider_zoho.get_provider_info import get_provider_info; "
        "get_provider_info(); "
        "print(sorted(m for m in sys.modules if m.startswith(('airflow', 'requests'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['airflow_provider_zoho', 'airflow_provider_zoho.get_provider_info']"


# -- the legacy (Airflow < 3.2) declarations agree with conn-fields -----------------------------------------


class _Field:
    """Records what a wtforms field was declared with (used where wtforms is not installed)."""

    kind = "string"

    def __init__(self, label, widget=None, default=None, description=None, validators=None):
        self.args = {
            "label": str(label),
            "default": default,
            "description": description,
            "widget": type(widget).__name__,
        }
        self.validators = validators or []


def _fake_form_modules(monkeypatch):
    def field(kind):
        return type(kind, (_Field,), {"kind": kind})

    wtforms = types.ModuleType("wtforms")
    wtforms.StringField = field("string")
    wtforms.PasswordField = field("password")
    wtforms.IntegerField = field("integer")
    validators = types.ModuleType("wtforms.validators")
    validators.NumberRange = lambda **kw: types.SimpleNamespace(min=kw.get("min"), max=kw.get("max"))
    validators.Optional = lambda: "Optional"
    widgets = types.ModuleType("flask_appbuilder.fieldwidgets")
    widgets.BS3TextFieldWidget = type("BS3TextFieldWidget", (), {})
    widgets.BS3PasswordFieldWidget = type("BS3PasswordFieldWidget", (), {})
    babel = types.ModuleType("flask_babel")
    babel.lazy_gettext = str
    for name, module in {
        "wtforms": wtforms,
        "wtforms.validators": validators,
        "flask_appbuilder": types.ModuleType("flask_appbuilder"),
        "flask_appbuilder.fieldwidgets": widgets,
        "flask_babel": babel,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)


def _range(validators) -> tuple | None:
    """The (min, max) of the NumberRange among ``validators`` (real or fake), if any."""
    ranges = [(v.min, v.max) for v in validators if hasattr(v, "min") and hasattr(v, "max")]
    return ranges[0] if ranges else None


def _describe(field) -> dict:
    """Label, kind, default, range and choices of a real wtforms unbound field or of a recorded fake."""
    if isinstance(field, _Field):
        return {"kind": field.kind, **field.args, "range": _range(field.validators)}
    kind = {"PasswordField": "password", "IntegerField": "integer"}.get(field.field_class.__name__, "string")
    kwargs = field.kwargs
    label = field.args[0] if field.args else kwargs.get("label")
    return {
        "kind": kind,
        "label": str(label),
        "default": kwargs.get("default"),
        "description": kwargs.get("description"),
        "widget": type(kwargs.get("widget")).__name__,
        "range": _range(kwargs.get("validators") or []),
    }


def test_legacy_widgets_match_conn_fields(monkeypatch):
    try:
        import flask_appbuilder.fieldwidgets  # noqa: F401
        import wtforms  # noqa: F401
    except ImportError:  # Airflow 3 ships no wtforms: check the declarations with recording fakes
        _fake_form_modules(monkeypatch)
    widgets = {name: _describe(field) for name, field in ZohoOAuthHook.get_connection_form_widgets().items()}
    assert set(widgets) == set(ZOHO["conn-fields"])
    for name, declared in ZOHO["conn-fields"].items():
        schema = declared["schema"]
        widget = widgets[name]
        assert widget["label"] == declared["label"], name
        # Airflow 2's connection form is styled by Flask-AppBuilder's Bootstrap 3 widgets.
        text_widget = "BS3PasswordFieldWidget" if schema.get("format") == "password" else "BS3TextFieldWidget"
        assert widget["widget"] == text_widget, name
        if schema.get("format") == "password":
            assert widget["kind"] == "password", name
        elif "enum" in schema:  # Airflow 2 forms have no drop-down: a text field that lists the values
            assert widget["kind"] == "string", name
            assert widget["description"] == f"One of {', '.join(schema['enum'])}", name
        elif "integer" in schema["type"]:
            assert widget["kind"] == "integer", name
            assert widget["range"] == (schema.get("minimum"), schema.get("maximum")), name
        else:
            assert widget["kind"] == "string", name
        assert widget["default"] == schema.get("default"), name


def test_legacy_field_behaviour_matches_ui_field_behaviour():
    declared = ZOHO["ui-field-behaviour"]
    assert ZohoOAuthHook.get_ui_field_behaviour() == {
        "hidden_fields": declared["hidden-fields"],
        "relabeling": declared["relabeling"],
        "placeholders": declared["placeholders"],
    }


# -- what Airflow itself sees ---------------------------------------------------------------------------


def test_providers_manager_lists_the_zoho_connection_type():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-zoho" in manager.providers
    hook = manager.hooks["zoho"]
    assert hook.hook_class_name == "airflow_provider_zoho.hooks.zoho.ZohoOAuthHook"
    assert hook.connection_id_attribute_name == "zoho_conn_id"
    assert hook.hook_name == "Zoho"
    widgets = manager.connection_form_widgets
    for name in ZOHO["conn-fields"]:
        assert f"extra__zoho__{name}" in widgets, name
    assert widgets["extra__zoho__refresh_token"].is_sensitive
    behaviour = manager.field_behaviours["zoho"]
    assert behaviour["relabeling"] == {"login": "Client ID", "password": "Client Secret"}
    assert set(behaviour["hidden_fields"]) == {"host", "schema", "port"}


def test_airflow_cli_lists_the_hook():
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "hooks", "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = json.loads(out[out.index("[{") :])
    zoho = [row for row in rows if row.get("connection_type") == "zoho"]
    assert zoho, rows
    assert zoho[0]["class"] == "airflow_provider_zoho.hooks.zoho.ZohoOAuthHook"


def test_every_listed_module_imports():
    import importlib

    info = get_provider_info()
    modules = [
        m
        for kind in ("hooks", "operators", "sensors", "triggers")
        for i in info[kind]
        for m in i["python-modules"]
    ]
    assert "airflow_provider_zoho.hooks.desk" in modules
    assert "airflow_provider_zoho.operators.desk" in modules
    for module in modules:
        importlib.import_module(module)
    assert {i["integration-name"] for i in info["integrations"]} == {"Zoho Apptics", "Zoho Desk"}


def test_data_center_list_is_the_enum():
    assert list(DATA_CENTERS) == ZOHO["conn-fields"]["data_center"]["schema"]["enum"]
