"""End to end over Kafka: HTTP → event store → relay → Kafka → a consumer group of two →
views served by a `TSUNAGI_VIEW_FEED=kafka` server, item by item equal to the embedded
server's views of the same log. On SQLite and on PostgreSQL (the `settings` fixture).
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from infra.demo import load_demo
from infra.kafka.broker import KafkaBroker, free_port
from infra.settings import Settings
from tests.e2e.conftest import Api, act, submitted_proposal, triaged_need
from tests.kafka_helpers import ScaleOut, wait_until
from wiring.bootstrap import Container, build

pytestmark = pytest.mark.kafka


@contextmanager
def serving(container: Container) -> Iterator[str]:
    """The app of `container` on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _views_url(settings: Settings, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store of its own for the Kafka-fed views (the embedded ones keep theirs)."""
    if settings.uses_postgres:
        return str(request.getfixturevalue("postgres_server")
                   .create_database(f"kafka_views_{uuid.uuid4().hex}"))
    return str(tmp_path / "kafka-views.sqlite")


def _without_now(body: Any) -> Any:
    """The body without `as_of` instants of 'now' (two servers answer a moment apart)."""
    if isinstance(body, dict):
        return {k: _without_now(v) for k, v in body.items() if k != "as_of"}
    if isinstance(body, list):
        return [_without_now(v) for v in body]
    return body


def _all_pages(client: httpx.Client, path: str, params: dict[str, Any]) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        response = client.get(path, params={**params, "limit": 200,
                                            **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, f"{path}: {response.text}"
        items.extend(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if not cursor:
            return items


def _reads(c: Container) -> list[tuple[str, dict[str, Any], bool]]:
    """(path, params, paged) of every list, view and metric."""
    reads: list[tuple[str, dict[str, Any], bool]] = [
        ("/api/v1/needs", {}, True), ("/api/v1/proposals", {}, True)]
    reads += [(f"/api/v1/views/department-queue/{d.id}", {}, False) for d in c.city.departments]
    reads += [(f"/api/v1/views/ward-feedback/{w.id}", {}, True) for w in c.city.wards]
    reads += [(f"/api/v1/views/office-feedback/{o.id}", {}, True) for o in c.city.offices]
    reads += [("/api/v1/views/ward-meeting-agenda",
               {"since": "2025-04-01", "until": "2026-11-30"}, False),
              ("/api/v1/metrics/response", {"group_by": "ward"}, False),
              ("/api/v1/metrics/uniformity", {"metric": "acknowledgement_median"}, False),
              ("/api/v1/metrics/backlog", {}, False)]
    return reads


def test_views_fed_through_kafka_by_a_group_of_two_equal_the_embedded_views(
        api: Api, settings: Settings, kafka_broker: KafkaBroker, kafka_topic: str,
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    load_demo(api.container.app, datetime.now(UTC))  # a history to compare, besides HTTP
    kafka_settings = settings.model_copy(update={
        "view_feed": "kafka", "kafka_bootstrap": kafka_broker.bootstrap,
        "kafka_topic": kafka_topic, "views_url": _views_url(settings, request, tmp_path)})
    scale = ScaleOut(kafka_settings, kafka_broker, kafka_topic, tmp_path / "logs")
    env = {"TSUNAGI_VIEW_FEED": "kafka", "TSUNAGI_VIEWS_URL": kafka_settings.views_url}
    kafka_fed = build(kafka_settings)  # its views' tables first: no DDL beside the consumers
    relay = scale.start("relay", **env)
    group = [scale.start("consume", "--group", "e2e", "--all", **env) for _ in range(2)]
    try:
        with serving(kafka_fed) as kafka_url:
            # Commands through the embedded server and through the Kafka-fed one.
            proposal = submitted_proposal(api)
            assert act(api, "transport", "proposals", proposal["id"], "acknowledge")\
                .status_code == 200
            need = triaged_need(api)
            kafka_api = Api(kafka_fed, kafka_url, api.tokens)
            triaged_need(kafka_api, ward="higashi", title="Kafka 経由の記録")
            last = act(kafka_api, "transport", "proposals", proposal["id"], "start-review")
            assert last.status_code == 200, last.text
            position = int(last.json()["position"])
            assert need["position"] < position

            with api.as_("monitor") as embedded, kafka_api.as_("monitor") as fed:
                # min_position waits for the key of the event at that position: the read
                # shows this ward's write at once (read your writes) ...
                mine = fed.get("/api/v1/needs", params={"min_position": position,
                                                        "ward": "higashi", "limit": 200})
                assert "Kafka 経由の記録" in [n["title"] for n in mine.json()["items"]]
                # ... while other wards' history may still be on its way: compare all once
                # the group has read every partition to its end.
                wait_until(lambda: all(p["lag"] == 0 for v in fed.get("/healthz").json()
                                       ["views"] for p in v["partitions"]),
                           "the group read every partition")
                for path, params, paged in _reads(api.container):
                    asked = {**params, "min_position": position}
                    if paged:
                        assert _all_pages(fed, path, asked) == _all_pages(embedded, path, asked)
                    else:
                        mine, theirs = fed.get(path, params=asked), embedded.get(path,
                                                                                 params=asked)
                        assert mine.status_code == theirs.status_code == 200, mine.text
                        assert _without_now(mine.json()) == _without_now(theirs.json()), path
                health = fed.get("/healthz").json()
            assert health["status"] == "ok"
            assert {v["feed"] for v in health["views"]} == {"kafka"}
            assert all([p["lag"] for p in v["partitions"]] == [0] * 6 for v in health["views"])
    finally:
        kafka_fed.close()
        for process in (relay, *group):
            process.send_signal(signal.SIGTERM)
        for process in (relay, *group):
            try:
                assert process.wait(timeout=60) == 0
            except subprocess.TimeoutExpired:
                process.kill()
                raise
