"""Operating on PostgreSQL: several server processes on one database, and a database restart.

Real processes (`tsunagi serve`), real HTTP, a real PostgreSQL (tests/pg_server.py):
- two servers and `serve --workers 2` take concurrent commands without losing or doubling
  an event, one winner per race, and the same views from every process;
- a PostgreSQL restart while the API serves answers 503 problems with `Retry-After` (or
  success), never 500, and the API recovers by itself with everything written before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from infra.settings import Settings
from tests.e2e.conftest import NEED, PEOPLE
from tests.e2e.serving import free_port
from tests.pg_server import PostgresServer
from wiring.bootstrap import build

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
TSUNAGI = Path(sys.executable).parent / "tsunagi"
EVENTS_TABLE = "tsunagi_events"  # the library's table: application name "Tsunagi" + "_events"
DECIDE = {"decision": "accepted", "reason": "必要性が高い"}


# ── servers in their own processes ───────────────────────────────────────────


@dataclass
class Server:
    """One `tsunagi serve` process (with its workers, if any) on a free port."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    tokens: dict[str, str]

    def as_(self, person: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60,
                            headers={"Authorization": f"Bearer {self.tokens[person]}"})

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@dataclass
class Deployment:
    """The database, the users' tokens, and the servers started on it."""

    url: str
    data_dir: Path
    tokens: dict[str, str]
    servers: list[Server] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {**os.environ, "TSUNAGI_DATABASE_URL": self.url,
                "TSUNAGI_DATA_DIR": str(self.data_dir), "TSUNAGI_POLL_INTERVAL": "0.05"}

    def serve(self, *extra: str) -> Server:
        """Start `tsunagi serve` and wait until `/healthz` answers."""
        port = free_port()
        log = self.data_dir / f"server-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(TSUNAGI), "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
                cwd=ROOT, env=self.env(), stdout=out, stderr=subprocess.STDOUT)
        server = Server(process, f"http://127.0.0.1:{port}", log, self.tokens)
        self.servers.append(server)
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited ({process.returncode}):\n"
                                     f"{server.output()}")
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{server.output()}")
            time.sleep(0.1)

    def stop(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.process.terminate()
        for server in self.servers:
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=10)

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return list(conn.execute(sql, params).fetchall())


@pytest.fixture
def deployment(postgres_url: str, tmp_path: Path) -> Iterator[Deployment]:
    """A fresh database with the tables and the users of PEOPLE; servers stopped at the end."""
    container = build(Settings(data_dir=tmp_path, database_url=postgres_url))
    try:
        tokens = {}
        for name, (role, ward, office, department) in PEOPLE.items():
            _, tokens[name] = container.users.add(name, role, ward, office, department,
                                                  user_id=f"user-{name}")
    finally:
        container.close()
    d = Deployment(postgres_url, tmp_path, tokens)
    try:
        yield d
    finally:
        d.stop()


# ── helpers ──────────────────────────────────────────────────────────────────


def ok(response: httpx.Response, *codes: int) -> dict[str, Any]:
    assert response.status_code in (codes or (200,)), response.text
    return dict(response.json())


def record_need(server: Server, person: str = "staff", **changes: Any) -> dict[str, Any]:
    with server.as_(person) as client:
        return ok(client.post("/api/v1/needs", json={**NEED, **changes}), 201)


def submitted_proposal(server: Server) -> dict[str, Any]:
    """A need recorded and triaged, a proposal drafted on it and submitted by the mayor."""
    need = record_need(server)
    with server.as_("staff") as staff, server.as_("mayor") as mayor:
        ok(staff.post(f"/api/v1/needs/{need['id']}/triage", json={}))
        proposal = ok(staff.post("/api/v1/proposals", json={
            "ward": "higashi", "title": "東区のバス停待合環境の改善", "needs": [need["id"]],
            "lead_department": "transport-planning", "policy_area": "transport"}), 201)
        return ok(mayor.post(f"/api/v1/proposals/{proposal['id']}/submit", json={}))


def history(server: Server, kind: str, record_id: str) -> list[dict[str, Any]]:
    with server.as_("monitor") as client:
        body = ok(client.get(f"/api/v1/{kind}/{record_id}/history", params={"limit": 200}))
    assert body["next_cursor"] is None
    return list(body["items"])


def listed(server: Server, kind: str, min_position: int) -> dict[str, int]:
    """Every record of a list (all pages) as id → version, once the views reach a position."""
    found: dict[str, int] = {}
    cursor: str | None = None
    with server.as_("monitor") as client:
        while True:
            params: dict[str, Any] = {"min_position": min_position, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = ok(client.get(f"/api/v1/{kind}", params=params))
            for item in page["items"]:
                assert item["id"] not in found, f"{item['id']} listed twice"
                found[item["id"]] = item["version"]
            cursor = page["next_cursor"]
            if cursor is None:
                return found


def in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, released together; re-raise the first failure."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    if errors:
        raise errors[0]
    return results


def drive_concurrently(d: Deployment, servers: list[Server], *, threads: int = 8,
                       needs_each: int = 8, races: int = 6) -> None:
    """Needs recorded from many threads and races on shared proposals, across `servers`;
    then check the log, the records and the views through every server."""
    head = servers[0]

    # records of needs: every thread alternates between the servers
    def recorder(t: int) -> Callable[[], list[dict[str, Any]]]:
        def run() -> list[dict[str, Any]]:
            person = "room" if t % 2 else "staff"
            return [record_need(servers[(t + i) % len(servers)], person,
                                office="higashi-exchange-room-1",
                                title=f"要望 {t}-{i}") for i in range(needs_each)]
        return run

    recorded = [n for batch in in_threads([recorder(t) for t in range(threads)])
                for n in batch]
    need_ids = [n["id"] for n in recorded]
    assert len(set(need_ids)) == threads * needs_each

    # racing decisions: two reviewers decide each proposal at once, through different servers
    proposals = [submitted_proposal(servers[i % len(servers)]) for i in range(races)]
    for i, p in enumerate(proposals):
        path = f"/api/v1/proposals/{p['id']}/decide"
        first, second = servers[i % len(servers)], servers[(i + 1) % len(servers)]

        def decide(server: Server, person: str, body: dict[str, Any],
                   path: str = path) -> httpx.Response:
            with server.as_(person) as client:
                client.get("/healthz")  # connect before the start line
                return client.post(path, json=body)

        responses: list[httpx.Response] = in_threads([
            lambda first=first: decide(first, "transport", DECIDE),  # type: ignore[misc]
            lambda second=second: decide(second, "transport2",  # type: ignore[misc]
                                         {**DECIDE, "decision": "rejected"}),
        ])
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.headers["content-type"].startswith("application/problem+json")
        decided = [e for e in history(head, "proposals", p["id"])
                   if e["type"] == "ProposalDecided"]
        assert len(decided) == 1, decided

    # the log: nothing lost, nothing doubled
    proposal_ids = [p["id"] for p in proposals]
    proposal_need_ids = [p["needs"][0] for p in proposals]
    every_id = need_ids + proposal_need_ids + proposal_ids
    lengths = {}
    for kind, ids in (("needs", need_ids + proposal_need_ids), ("proposals", proposal_ids)):
        for record_id in ids:
            entries = history(head, kind, record_id)
            assert [e["version"] for e in entries] == list(range(1, len(entries) + 1))
            lengths[record_id] = len(entries)
    [(total, aggregates)] = d.query(
        f"SELECT count(*), count(DISTINCT originator_id) FROM {EVENTS_TABLE}")
    assert aggregates == len(every_id)
    assert total == sum(lengths.values())
    decided_rows = d.query(f"SELECT originator_id::text, count(*) FROM {EVENTS_TABLE}"
                           " WHERE topic LIKE %s GROUP BY originator_id", "%Proposal.Decided")
    assert dict(decided_rows) == dict.fromkeys(proposal_ids, 1)
    [(head_position,)] = d.query(f"SELECT max(notification_id) FROM {EVENTS_TABLE}")

    # every record, through every server, as it stands
    versions: dict[str, int] = {}
    for server in servers:
        with server.as_("monitor") as client:
            for kind, ids in (("needs", need_ids + proposal_need_ids),
                              ("proposals", proposal_ids)):
                for record_id in ids:
                    body = ok(client.get(f"/api/v1/{kind}/{record_id}"))
                    assert body["version"] == lengths[record_id]
                    versions[record_id] = body["version"]

    # the views, through every server, once they reach the head of the log
    for server in servers:
        assert listed(server, "needs", head_position) == {
            i: versions[i] for i in need_ids + proposal_need_ids}
        assert listed(server, "proposals", head_position) == {
            i: versions[i] for i in proposal_ids}
    [(view_rows,)] = d.query("SELECT count(*) FROM view_tracking WHERE position = %s",
                             head_position)
    assert view_rows == d.query("SELECT count(*) FROM view_tracking")[0][0]


# ── several processes on one database ────────────────────────────────────────


def test_two_server_processes_share_one_database(deployment: Deployment) -> None:
    servers = [deployment.serve(), deployment.serve()]
    drive_concurrently(deployment, servers)


def test_serve_with_two_workers(deployment: Deployment) -> None:
    server = deployment.serve("--workers", "2")
    workers = _children(server.process.pid)
    assert len(workers) >= 2, f"expected 2 worker processes, found {workers}"
    drive_concurrently(deployment, [server], races=4)
    assert server.process.poll() is None, server.output()


def test_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TSUNAGI_DATABASE_URL"}
    result = subprocess.run(
        [str(TSUNAGI), "serve", "--port", str(free_port()), "--workers", "2"],
        cwd=ROOT, env={**env, "TSUNAGI_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "PostgreSQL" in result.stderr and "--workers" in result.stderr, result.stderr


def _children(pid: int) -> list[int]:
    """Live child processes of `pid` (from /proc), waiting briefly for them to appear."""
    deadline = time.monotonic() + 20
    found: list[int] = []
    while time.monotonic() < deadline:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        if len(found) >= 2:
            break
        time.sleep(0.2)
    return found


# ── PostgreSQL restarted while the API serves ────────────────────────────────


def test_postgres_restart_answers_503_then_recovers(deployment: Deployment,
                                                    postgres_server: PostgresServer) -> None:
    if postgres_server.external:
        pytest.skip("restart() needs the throwaway cluster, not TSUNAGI_TEST_POSTGRES_URL")
    servers = [deployment.serve(), deployment.serve()]
    before = [record_need(servers[i % 2], title=f"再起動前 {i}") for i in range(10)]
    position = max(n["position"] for n in before)

    seen: Counter[int] = Counter()
    failures: list[str] = []
    stop = threading.Event()

    def check(response: httpx.Response, *good: int) -> None:
        seen[response.status_code] += 1
        if response.status_code in good:
            return
        if (response.status_code == 503
                and response.headers.get("content-type", "").startswith("application/problem+json")
                and response.headers.get("retry-after", "").isdigit()
                and response.json()["status"] == 503):
            return
        failures.append(f"{response.status_code} {response.headers} {response.text}")

    def load(t: int) -> None:
        try:
            send(t)
        except Exception as exc:  # a dead load thread must fail the test, not vanish
            failures.append(f"load {t}: {exc!r}")

    def send(t: int) -> None:
        server = servers[t % 2]
        with server.as_("staff") as client:
            i = 0
            while not stop.is_set():
                i += 1
                target = before[(t + i) % len(before)]["id"]
                check(client.get(f"/api/v1/needs/{target}"), 200)
                check(client.post("/api/v1/needs", json={**NEED, "title": f"再起動中 {t}-{i}"}),
                      201)
                check(client.get("/api/v1/needs", params={"limit": 5}), 200)
                check(client.post("/api/v1/needs", json={**NEED, "title": f"鍵付き {t}-{i}"},
                                  headers={"Idempotency-Key": f"restart-{t}-{i}"}), 201)

    threads = [threading.Thread(target=load, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(2):  # twice, so that some requests surely meet the restart
            time.sleep(0.5)  # the load is running
            postgres_server.restart()
        time.sleep(1.0)  # and keeps running against the restarted server
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not failures, (failures[:5], [s.output()[-4000:] for s in servers])
    assert seen[500] == 0 and sum(seen.values()) > 0, seen

    # the API recovers by itself: once one request succeeds, every later one does
    for server in servers:
        deadline = time.monotonic() + 30
        with server.as_("staff") as client:
            while client.get(f"/api/v1/needs/{before[0]['id']}").status_code != 200:
                assert time.monotonic() < deadline, "the API did not recover"
                time.sleep(0.2)
    for round_ in range(20):
        for server in servers:
            with server.as_("staff") as client:
                ok(client.get(f"/api/v1/needs/{before[round_ % 10]['id']}"))
                ok(client.get("/api/v1/needs", params={"limit": 5}))
                ok(client.post("/api/v1/needs", json={**NEED, "title": f"再起動後 {round_}"},
                               headers={"Idempotency-Key": f"after-{round_}-{server.base_url}"}),
                   201)

    # everything written before the restart is still there, in the records and the views
    after = record_need(servers[0], title="再起動後の記録")
    assert after["position"] > position
    for server in servers:
        with server.as_("monitor") as client:
            for need in before:
                assert ok(client.get(f"/api/v1/needs/{need['id']}"))["version"] == 1
        ids = listed(server, "needs", after["position"])
        assert {n["id"] for n in before} | {after["id"]} <= set(ids)
    for server in servers:
        assert server.process.poll() is None, server.output()
