"""`scripts/serve-demo --port N` serves the demo on the port asked for."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.serving import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "serve-demo"


def test_serve_demo_serves_on_the_port_it_is_given(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TSUNAGI_DATA_DIR": str(tmp_path)}
    env.pop("TSUNAGI_DATABASE_URL", None)
    process = subprocess.Popen([str(SCRIPT), "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 300  # a hang guard: it installs, then loads the demo
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "serve-demo never answered"
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert health.status_code == 200
        assert health.json()["log_position"] > 0  # the demo history is there
        assert (tmp_path / "demo-tokens.txt").exists()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_serve_demo_refuses_a_port_that_is_not_a_number() -> None:
    run = subprocess.run([str(SCRIPT), "--port", "eighty"], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 2
    assert "'eighty'" in run.stderr
