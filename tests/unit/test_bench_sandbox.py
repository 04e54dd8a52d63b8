"""The benchmark's sandbox client (bench/_sandbox.py) against the in-process sandbox, over loopback."""

from __future__ import annotations

import requests

from airflow_provider_zoho.sandbox import ZohoSandbox
from bench._sandbox import CRASH_LIST_PATH, SandboxClient


def test_delay_pages_delays_every_apptics_request_and_nothing_else():
    with ZohoSandbox() as zoho_sandbox:
        client = SandboxClient(zoho_sandbox.url)
        client.delay_pages(0.001)
        client.close()
        with requests.Session() as session:
            session.trust_env = False
            for offset in range(3):  # unauthenticated: the delay comes first, the 401 after it
                url = f"{zoho_sandbox.url}{CRASH_LIST_PATH}"
                session.get(url, params={"offset": offset * 500}, timeout=5)
            session.get(f"{zoho_sandbox.url}/oauth/v2/token", timeout=5)
        (rule,) = zoho_sandbox.faults()
    assert (rule["kind"], rule["seconds"], rule["times"]) == ("delay", 0.001, None)
    assert (rule["seen"], rule["fired"]) == (3, 3)  # every page, however many; not the token endpoint
