"""
The Zoho sandbox in its own process, so its CPU never shares a GIL with what is being measured.

``python -m airflow_provider_zoho.sandbox --port 0`` prints its URL on the first stdout line; everything
else (dataset size, counters, the connection to use) goes through its ``/__sandbox__`` control endpoints
over loopback.
"""

from __future__ import annotations

import subprocess
import threading
from typing import IO, TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from typing_extensions import Self

API_PREFIX = "/cx/api/v1"
CRASH_LIST_PATH = f"{API_PREFIX}/crash/list"
DESK_TICKET_SEARCH_PATH = "/api/v1/tickets/search"


class SandboxClient:
    """
    The ``/__sandbox__`` control endpoints of a running sandbox.

    :param url: its base URL, ``http://127.0.0.1:<port>``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._session = requests.Session()
        self._session.trust_env = False  # loopback only: never through a proxy from the environment

    def close(self) -> None:
        self._session.close()

    def control(self, method: str, name: str, body: Any = None) -> Any:
        """Call ``/__sandbox__/<name>`` and return its JSON answer."""
        response = self._session.request(method, f"{self.url}/__sandbox__/{name}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def connection(self) -> dict[str, Any]:
        """The ``zoho`` connection (``AIRFLOW_CONN_*`` JSON form) that points at this sandbox."""
        return self.control("GET", "connection")

    def stats(self) -> dict[str, Any]:
        """Mint and request counters."""
        return self.control("GET", "stats")

    def reset(self) -> None:
        """Forget tokens, counters and dataset overrides."""
        self.control("POST", "reset")

    def set_rows(self, resource: str, rows: int) -> None:
        """Serve ``rows`` generated rows for ``resource`` (computed lazily, page by page)."""
        self.control("POST", "dataset", {"resource": resource, "rows": rows})

    def delay_pages(self, seconds: float) -> None:
        """Wait ``seconds`` before answering every Apptics request from now on (a ``delay`` fault rule)."""
        rule = {"kind": "delay", "path": API_PREFIX, "times": None, "seconds": seconds}
        self.control("POST", "faults", rule)

    def crash_list_requests(self) -> int:
        """``/cx/api/v1/crash/list`` requests answered so far."""
        return int(self.stats()["requests_by_path"].get(CRASH_LIST_PATH, 0))

    def add_desk_rows(self, resource: str, rows: int, start: str, end: str | None = None) -> None:
        """Add ``rows`` Desk tickets or contacts modified over ``[start, end)`` (without end: at start)."""
        self.control("POST", "desk/rows", {"resource": resource, "rows": rows, "start": start, "end": end})

    def desk_ticket_searches(self) -> int:
        """``/api/v1/tickets/search`` requests answered so far."""
        return int(self.stats()["requests_by_path"].get(DESK_TICKET_SEARCH_PATH, 0))


class SandboxProcess:
    """
    ``python -m airflow_provider_zoho.sandbox`` as a child process; :attr:`client` drives it.

    :param python: the interpreter to run it with.
    :param log_path: where its stderr goes.
    :param seed: seed of its deterministic data.
    :param mint_limit: token mints per refresh token per 10 minutes (Zoho's and the default: 10).
    :param start_timeout: seconds to wait for the URL line.
    """

    def __init__(
        self,
        python: str,
        log_path: Path,
        *,
        seed: int = 7,
        mint_limit: int | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.python = python
        self.log_path = log_path
        self.seed = seed
        self.mint_limit = mint_limit
        self.start_timeout = start_timeout
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None
        self._client: SandboxClient | None = None

    def __enter__(self) -> Self:
        command = [self.python, "-m", "airflow_provider_zoho.sandbox", "--host", "127.0.0.1", "--port", "0"]
        command += ["--seed", str(self.seed)]
        if self.mint_limit is not None:
            command += ["--mint-limit", str(self.mint_limit)]
        self._log = self.log_path.open("w")
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.url = _first_line(self._process, self.start_timeout)
        if not self.url.startswith("http://127.0.0.1:"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the sandbox did not start (first line {self.url!r}; see {self.log_path})")
        self._client = SandboxClient(self.url)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the sandbox is not running")
        return self._process.pid

    @property
    def client(self) -> SandboxClient:
        if self._client is None:
            raise RuntimeError("the sandbox is not running")
        return self._client


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The first stdout line of ``process``, or ``""`` if none arrives within ``timeout`` seconds."""
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""))
    reader.daemon = True
    reader.start()
    reader.join(timeout)
    return line[0].strip() if line else ""
