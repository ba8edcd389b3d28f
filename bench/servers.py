"""Server processes under test: Tsunagi itself (`tsunagi serve`) and the CRUD baseline.

With Kafka: `tsunagi serve` in Kafka mode, and the relay and consumer processes beside it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from bench.stores import Store
from infra.city import load_city
from infra.sql import open_database
from infra.users import UserStore


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token_for(store: Store, role: str, **scope: str) -> str:
    """A new user's bearer token on the store (as `tsunagi users add` would make)."""
    settings = store.settings
    db = open_database(settings.database_url if settings.uses_postgres
                       else settings.data_dir / "tsunagi.sqlite")
    try:
        return UserStore(db, load_city(settings.city)).add(f"bench {role}", role, **scope)[1]
    finally:
        db.close()


class Server:
    """A server process on a free port; a context manager that stops it."""

    def __init__(self, command: list[str], store: Store, log: Path,
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        self.process = subprocess.Popen([*command, "--port", str(self.port)],
                                        env={**store.env(), **(env or {})},
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}"
                                   f" (log: {self._log.name})")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s (log: {self._log.name})")

    def peak_rss_mb(self) -> float:
        """The process's peak resident set size so far (VmHWM), in MiB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError("no VmHWM in /proc status")

    def rss_mb(self) -> float:
        """The process's resident set size now (VmRSS), in MiB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError("no VmRSS in /proc status")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def tsunagi(store: Store, log: Path) -> Server:
    """`tsunagi serve` on the store: one process, its own follower."""
    return Server([sys.executable, "-m", "wiring.cli", "serve"], store, log)


def crud(store: Store, log: Path) -> Server:
    """The plain FastAPI + pydantic + one-row-insert baseline on the same kind of store."""
    return Server([sys.executable, "-m", "bench.crud", *store.cli_args()], store, log)


def tsunagi_on_kafka(store: Store, log: Path, kafka_env: dict[str, str]) -> Server:
    """`tsunagi serve` with `TSUNAGI_VIEW_FEED=kafka`: no follower, it reads what consumers keep."""
    return Server([sys.executable, "-m", "wiring.cli", "serve"], store, log,
                  {**kafka_env, "TSUNAGI_VIEW_FEED": "kafka"})


class Background:
    """A `tsunagi` command without a port (relay, consumer); a context manager that stops it."""

    def __init__(self, args: list[str], store: Store, log: Path, env: dict[str, str]) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "wiring.cli", *args],
                                        env={**store.env(), **env}, stdout=self._log,
                                        stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        """True while the process runs."""
        return self.process.poll() is None

    def __enter__(self) -> Background:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.process.terminate()  # SIGTERM: it finishes its batch and exits
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
