"""`database_unavailable` walks causes, contexts and exception groups without looping."""

from __future__ import annotations

import psycopg

from api.problems import database_unavailable


def _group_whose_member_points_back() -> ExceptionGroup:
    inner = RuntimeError("inside a task group")
    group = ExceptionGroup("middleware", [inner])
    inner.__context__ = group  # what anyio's task groups can leave behind
    return group


def test_a_group_whose_member_points_back_at_it_is_walked_once() -> None:
    assert database_unavailable(_group_whose_member_points_back()) is False


def test_an_outage_inside_a_looping_group_is_still_found() -> None:
    group = _group_whose_member_points_back()
    group.exceptions[0].__cause__ = psycopg.OperationalError("server closed the connection")
    assert database_unavailable(group) is True


def test_an_outage_behind_a_wrapping_error_is_found() -> None:
    try:
        try:
            raise psycopg.InterfaceError("the connection is closed")
        except psycopg.InterfaceError as exc:
            raise RuntimeError("while saving") from exc
    except RuntimeError as wrapped:
        assert database_unavailable(wrapped) is True
