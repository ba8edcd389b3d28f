"""`tsunagi users` and `metrics report` as an administrator meets them (SQLite: none of it
depends on the store)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infra.settings import Settings
from wiring.bootstrap import build
from wiring.cli import main


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The command line pointed at a fresh SQLite store."""
    monkeypatch.setenv("TSUNAGI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TSUNAGI_DATABASE_URL", raising=False)
    return Settings(data_dir=tmp_path)


def _users(settings: Settings) -> int:
    with build(settings) as c:
        return len(c.users.list())


@pytest.mark.parametrize("options, named", [
    (["--role", "ward_staff", "--ward", "higashi", "--department", "parks"], "'parks'"),
    (["--role", "monitor", "--office", "higashi-exchange-room-1"], "'higashi-exchange-room-1'"),
    (["--role", "department_reviewer", "--department", "parks", "--ward", "kita"], "'kita'"),
    (["--role", "ward_mayor", "--ward", "nowhere"], "'nowhere'"),
    (["--role", "exchange_room_staff", "--office", "no-such-room"], "'no-such-room'"),
    (["--role", "department_reviewer", "--department", "no-such-division"], "'no-such-division'"),
    (["--role", "boss"], "'boss'"),
])
def test_users_add_refuses_a_bad_scope_naming_the_value_and_adds_nobody(
        settings: Settings, capsys: pytest.CaptureFixture[str], options: list[str],
        named: str) -> None:
    assert main(["users", "add", "--name", "山田 花子", *options]) == 2
    err = capsys.readouterr().err
    assert named in err and err.startswith("tsunagi: ")
    assert _users(settings) == 0


def test_users_add_takes_an_office_with_its_own_ward(settings: Settings) -> None:
    assert main(["users", "add", "--name", "佐藤", "--role", "exchange_room_staff",
                 "--office", "higashi-exchange-room-1", "--ward", "higashi"]) == 0
    assert _users(settings) == 1


def test_users_list_aligns_its_columns_and_shows_times_in_jst(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    main(["users", "add", "--name", "山田 花子", "--role", "ward_staff", "--ward", "higashi"])
    main(["users", "add", "--name", "x", "--role", "exchange_room_staff",
          "--office", "higashi-exchange-room-1"])
    main(["users", "add", "--name", "admin", "--role", "admin"])
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    for column in ("role", "scope", "created", "state", "name"):
        start = lines[0].index(column)
        assert all(line[start - 2:start] == "  " and line[start] != " " for line in lines)
    with build(settings) as c:
        created = c.users.list()[0].created_at
    jst = datetime.fromisoformat(created).astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{jst:%Y-%m-%d %H:%M} JST" in lines[1]


def test_users_list_into_a_closed_pipe_exits_without_a_traceback(settings: Settings) -> None:
    with build(settings) as c:
        for i in range(1500):  # more than a pipe buffer holds
            c.users.add(f"user {i}", "monitor")
    tsunagi = Path(sys.executable).with_name("tsunagi")
    process = subprocess.Popen([str(tsunagi), "users", "list"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"id ")
    process.stdout.close()  # what `| head -1` does
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_metrics_report_refuses_an_unknown_clock(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "report", "--clocks", "decision,lunch"]) == 2
    assert "'decision,lunch'" in capsys.readouterr().err


def test_metrics_report_shows_the_chosen_clocks_of_the_demo(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo"])
    capsys.readouterr()
    assert main(["metrics", "report", "--clocks", "acknowledgement,feedback"]) == 0
    table = capsys.readouterr().out
    assert "ack median" in table and "feedback median" in table
    assert "decision median" not in table and "end to end" not in table
    assert max(len(line) for line in table.splitlines()) < 200
