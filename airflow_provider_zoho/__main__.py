"""``python -m airflow_provider_zoho``: the command line of :mod:`airflow_provider_zoho.cli`."""

from __future__ import annotations

from airflow_provider_zoho.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
