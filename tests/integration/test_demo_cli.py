"""`tsunagi demo` on each store: loads once, prints tokens, and a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.settings import Settings
from wiring.bootstrap import build
from wiring.cli import main


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_env(request: pytest.FixtureRequest, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the command line at a fresh store of each kind."""
    monkeypatch.setenv("TSUNAGI_DATA_DIR", str(tmp_path))
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("TSUNAGI_DATABASE_URL", url)
        return Settings(data_dir=tmp_path, database_url=url)
    monkeypatch.delenv("TSUNAGI_DATABASE_URL", raising=False)
    return Settings(data_dir=tmp_path)


def test_demo_loads_once_and_prints_a_token_per_demo_user(
        store_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert "Loaded 230 needs and 52 proposals." in first
    token_lines = [line for line in first.splitlines()
                   if line.split()[:1] and line.split()[0] in
                   ("exchange_room_staff", "ward_staff", "ward_mayor", "department_reviewer",
                    "monitor", "admin")]
    assert {line.split()[0] for line in token_lines} == {
        "exchange_room_staff", "ward_staff", "ward_mayor", "department_reviewer", "monitor",
        "admin"}

    c = build(store_env)
    try:
        position = c.app.position()
        users = len(c.users.list())
        token = token_lines[0].split()[-1]
        assert c.users.authenticate(token) is not None
        assert all(view.position() == position for view in c.views)  # views caught up
    finally:
        c.close()

    assert main(["demo"]) == 0
    second = capsys.readouterr().out
    assert "already loaded; nothing changed" in second
    assert token_lines[0] in second  # the saved tokens are shown again

    c = build(store_env)
    try:
        assert c.app.position() == position
        assert len(c.users.list()) == users
    finally:
        c.close()


def test_projections_status_shows_no_lag_after_the_demo(
        store_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    main(["demo"])
    capsys.readouterr()
    assert main(["projections", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines and all(line.split()[-1] == "0" for line in lines)


def test_users_add_prints_the_token_alone_on_its_last_line(
        store_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "add", "--name", "山田 花子", "--role", "ward_staff",
                 "--ward", "higashi"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    c = build(store_env)
    try:
        user = c.users.authenticate(token)
        assert user is not None and user.ward == "higashi"
        assert main(["users", "revoke", user.id]) == 0
        assert c.users.authenticate(token) is None
    finally:
        c.close()
    assert main(["users", "add", "--name", "x", "--role", "ward_staff"]) == 2
    assert "needs --ward" in capsys.readouterr().err
