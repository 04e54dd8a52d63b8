"""
Command line: ``python -m airflow_provider_zoho.sandbox [--port 0] [--seed N] ...``.

Prints the base URL as the first line of stdout (then flushes), serves until SIGINT or SIGTERM, exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType


def build_parser() -> argparse.ArgumentParser:
    from airflow_provider_zoho.sandbox import server

    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_zoho.sandbox",
        description="Serve a local fake of Zoho Accounts (OAuth), the Zoho Apptics API and the Zoho Desk API",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default: %(default)s); another than loopback exposes the control "
        "endpoints, which have no authentication",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    parser.add_argument("--seed", default="0", help="seed of the deterministic data (default: %(default)s)")
    parser.add_argument("--token-ttl", type=float, default=3600, help="access token lifetime, seconds")
    parser.add_argument("--client-id", default=server.DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=server.DEFAULT_CLIENT_SECRET)
    parser.add_argument("--refresh-token", default=server.DEFAULT_REFRESH_TOKEN)
    parser.add_argument("--portal-id", default=server.DEFAULT_PORTAL_ID)
    parser.add_argument("--project-id", default=server.DEFAULT_PROJECT_ID)
    parser.add_argument("--desk-org-id", default=server.DEFAULT_ORG_ID, help="Zoho Desk organization id")
    parser.add_argument(
        "--throttle-status",
        type=int,
        choices=(200, 400),
        default=400,
        help="HTTP status of the token throttle answer (default: %(default)s)",
    )
    parser.add_argument("--mint-limit", type=int, default=10, help="token mints per refresh token per window")
    parser.add_argument("--mint-window", type=float, default=600, help="sliding mint window, seconds")
    parser.add_argument(
        "--max-live-tokens", type=int, default=15, help="live access tokens per refresh token"
    )
    parser.add_argument(
        "--legacy-expiry",
        action="store_true",
        help="answer expires_in in milliseconds plus expires_in_sec (the older Zoho format)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=None,
        help="request budget: answer HTTP 400 to every Zoho request past this many (default: no budget)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def _seed(raw: str) -> object:
    try:
        return int(raw)
    except ValueError:
        return raw


def main(argv: Sequence[str] | None = None) -> int:
    from airflow_provider_zoho.sandbox.server import ZohoSandbox

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.max_requests is not None and args.max_requests < 0:
        parser.error("--max-requests must not be negative")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("zoho-sandbox %(levelname)s: %(message)s"))
    logging.getLogger("airflow_provider_zoho.sandbox").addHandler(handler)
    sandbox = ZohoSandbox(
        host=args.host,
        port=args.port,
        seed=_seed(args.seed),
        token_ttl=args.token_ttl,
        client_id=args.client_id,
        client_secret=args.client_secret,
        refresh_token=args.refresh_token,
        portal_id=args.portal_id,
        project_id=args.project_id,
        desk_org_id=args.desk_org_id,
        throttle_status=args.throttle_status,
        mint_limit=args.mint_limit,
        mint_window=args.mint_window,
        max_live_tokens=args.max_live_tokens,
        legacy_expiry=args.legacy_expiry,
        max_requests=args.max_requests,
        verbose=args.verbose,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sandbox.start()
    except OSError as error:
        sys.stderr.write(f"zoho-sandbox: cannot serve on {args.host}:{args.port}: {error}\n")
        return 2
    try:
        sys.stdout.write(sandbox.url + "\n")
        sys.stdout.flush()
        sys.stderr.write(
            f"Zoho sandbox (seed {args.seed}) serving at {sandbox.url}; stop with Ctrl-C.\n"
            f"AIRFLOW_CONN_ZOHO_DEFAULT='{json.dumps(sandbox.connection())}'\n"
        )
        sys.stderr.flush()
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
