"""The `tsunagi` command line: serve, demo data, users, projections."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from api.bootstrap import Container, build
from infra.settings import Settings
from infra.users import UserError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tsunagi` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except UserError as exc:
        print(f"tsunagi: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tsunagi", description="つなぎ — needs-to-policy feedback for city governments")
    sub = parser.add_subparsers(metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the HTTP API (never loads demo data)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)

    demo = sub.add_parser("demo", help="load the Kumamoto demo history once; print tokens")
    demo.set_defaults(run=_demo)

    users = sub.add_parser("users", help="manage users and their tokens").add_subparsers(
        metavar="ACTION")
    add = users.add_parser("add", help="add a user; prints the token alone on the last line")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, help="exchange_room_staff, ward_staff,"
                     " ward_mayor, department_reviewer, monitor or admin")
    add.add_argument("--ward")
    add.add_argument("--office")
    add.add_argument("--department")
    add.set_defaults(run=_users_add)
    users.add_parser("list", help="list users (never tokens)").set_defaults(run=_users_list)
    revoke = users.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("user_id")
    revoke.set_defaults(run=_users_revoke)

    projections = sub.add_parser("projections", help="inspect and rebuild views")\
        .add_subparsers(metavar="ACTION")
    projections.add_parser("status", help="each view's position and lag")\
        .set_defaults(run=_projections_status)
    rebuild = projections.add_parser("rebuild", help="drop a view and rebuild it from the log")
    rebuild.add_argument("name", nargs="?", help="one view (default: all)")
    rebuild.set_defaults(run=_projections_rebuild)
    return parser


def _container() -> Container:
    return build(Settings())


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = Settings()
    print(f"Tsunagi serving {settings.city} on http://{args.host}:{args.port}"
          f" (data: {settings.database_url or settings.data_dir})", file=sys.stderr)
    uvicorn.run(create_app(build(settings)), host=args.host, port=args.port)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from infra.demo import demo_actors, load_demo

    c = _container()
    try:
        summary = load_demo(c.app, datetime.now(UTC))
        tokens_file = _tokens_file(c.settings)
        if summary.already_loaded and tokens_file.exists():
            print("Demo data was already loaded; nothing changed.")
            print(tokens_file.read_text(), end="")
            return 0
        lines = []
        existing = {u.id for u in c.users.list()}
        for actor in demo_actors():
            if actor.id in existing:
                continue
            _, token = c.users.add(actor.name, actor.role.value, actor.ward, actor.office,
                                   actor.department, user_id=actor.id)
            lines.append(f"{actor.role.value:<20} {_scope(actor):<28} {token}")
        header = "Demo tokens (role, scope, token):\n"
        tokens_file.write_text(header + "\n".join(lines) + "\n")
        os.chmod(tokens_file, 0o600)
        c.follower.catch_up()  # so the first page served is complete at once
        print(f"Loaded {summary.needs} needs and {summary.proposals} proposals.")
        print(header + "\n".join(lines))
        print(f"(saved to {tokens_file})")
    finally:
        c.close()
    return 0


def _tokens_file(settings: Settings) -> Path:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.data_dir / "demo-tokens.txt"


def _scope(actor: object) -> str:
    for name in ("office", "ward", "department"):
        value = getattr(actor, name, None)
        if value:
            return f"{name}={value}"
    return "-"


def _users_add(args: argparse.Namespace) -> int:
    c = _container()
    try:
        user, token = c.users.add(args.name, args.role, args.ward, args.office,
                                  args.department)
    finally:
        c.close()
    print(f"added user {user.id} ({user.name}, {user.role}, {_scope(user)})")
    print(token)
    return 0


def _users_list(_: argparse.Namespace) -> int:
    c = _container()
    try:
        for u in c.users.list():
            state = f"revoked {u.revoked_at}" if u.revoked_at else "active"
            print(f"{u.id}  {u.role:<20} {_scope(u):<32} {u.name}  ({state})")
    finally:
        c.close()
    return 0


def _users_revoke(args: argparse.Namespace) -> int:
    c = _container()
    try:
        user = c.users.revoke(args.user_id)
    finally:
        c.close()
    print(f"revoked {user.id} ({user.name})")
    return 0


def _projections_status(_: argparse.Namespace) -> int:
    c = _container()
    try:
        head = c.app.position()
        print(f"{'view':<20} {'position':>10} {'lag':>8}   (log at {head})")
        for view in c.views:
            position = view.position()
            print(f"{view.name:<20} {position:>10} {head - position:>8}")
    finally:
        c.close()
    return 0


def _projections_rebuild(args: argparse.Namespace) -> int:
    c = _container()
    try:
        chosen = [v for v in c.views if args.name in (None, v.name)]
        if not chosen:
            names = ", ".join(v.name for v in c.views)
            raise UserError(f"no view named {args.name!r}; views: {names}")
        for view in chosen:
            view.drop()
        c.follower.positions.update({v.name: v.position() for v in c.views})
        head = c.app.position()

        def progress(done: int, total: int) -> None:
            width = 40
            filled = width * done // max(total, 1)
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="",
                  file=sys.stderr, flush=True)

        progress(0, head)
        c.follower.catch_up(progress)
        print(file=sys.stderr)
        print(f"rebuilt {', '.join(v.name for v in chosen)} up to position {head}")
    finally:
        c.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
