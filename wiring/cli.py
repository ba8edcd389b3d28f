"""The `tsunagi` command line: serve, demo data, users, projections, Kafka, relay, consume."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from domain.groupings import GROUP_BYS
from domain.metrics import METRIC_CLOCKS
from infra.settings import Settings
from infra.users import UserError
from projections.base import REBUILD_BATCH_SIZE
from wiring.bootstrap import Container, build
from wiring.scale_cli import add_scale_out_commands, print_relay_status


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
    except BrokenPipeError:
        # `tsunagi users list | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's last flush fails silently too, and exit as a SIGPIPE'd tool does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tsunagi", description="つなぎ — needs-to-policy feedback for city governments")
    sub = parser.add_subparsers(metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the HTTP API (never loads demo data)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="server processes, each with its own follower (PostgreSQL only;"
                       " SQLite runs one)")
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
    projections.add_parser("status", help="each view's feed, position, lag and state")\
        .set_defaults(run=_projections_status)
    rebuild = projections.add_parser("rebuild", help="drop a view and rebuild it from the log")
    rebuild.add_argument("name", nargs="?", help="one view (default: all)")
    rebuild.set_defaults(run=_projections_rebuild)

    add_scale_out_commands(sub)

    metrics = sub.add_parser("metrics", help="response metrics (see docs/metrics.md)")\
        .add_subparsers(metavar="ACTION")
    report = metrics.add_parser("report", help="response metrics per group, as of an instant")
    report.add_argument("--group-by", default="ward",
                        choices=list(GROUP_BYS))
    report.add_argument("--as-of", metavar="INSTANT",
                        help="ISO 8601 with an offset, e.g. 2026-11-26T12:00:00+09:00"
                        " (default: now)")
    report.add_argument("--format", default="table", choices=["table", "csv", "json"],
                        help="csv is UTF-8 with a BOM, for Excel")
    report.add_argument("--clocks", default=",".join(METRIC_CLOCKS), metavar="LIST",
                        help="comma-separated clocks to show in the table and CSV, of"
                        f" {', '.join(METRIC_CLOCKS)} (default: all)")
    report.set_defaults(run=_metrics_report)
    plan = metrics.add_parser("plan-report", help="plan progress per chapter and measure, as CSV"
                              " for Excel (UTF-8 with a BOM)")
    plan.add_argument("--fiscal-year", type=int, required=True, help="e.g. 2026")
    plan.add_argument("--as-of", metavar="INSTANT", help="ISO 8601 with an offset (default: now)")
    plan.set_defaults(run=_metrics_plan_report)
    return parser


def _container() -> Container:
    return build(Settings())


def _serve(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit, urlunsplit

    import uvicorn

    from api.app import create_app

    settings = Settings()
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    if args.workers > 1 and not settings.uses_postgres:
        raise UserError(
            f"--workers {args.workers} needs PostgreSQL (TSUNAGI_DATABASE_URL=postgresql://…);"
            " on SQLite run one server process, so that one follower writes the views")
    url = urlsplit(settings.database_url)  # printed without its password
    where = (urlunsplit(url._replace(netloc=url.netloc.replace(f":{url.password}@", ":***@")))
             if url.password else settings.database_url) or settings.data_dir
    print(f"Tsunagi serving {settings.city} on http://{args.host}:{args.port}"
          f" with {args.workers} worker(s)"
          f" (data: {where})", file=sys.stderr)
    if args.workers > 1:
        # Each worker process imports the factory and builds its own container and follower.
        build(settings).close()  # create the tables once, before the workers race to do it
        uvicorn.run("api.app:create_app_from_env", factory=True, workers=args.workers,
                    host=args.host, port=args.port, http="api.protocol:ProblemH11Protocol")
    else:
        # A request that is not valid HTTP gets a problem+json 400 too (api/protocol.py).
        uvicorn.run(create_app(build(settings)), host=args.host, port=args.port,
                    http="api.protocol:ProblemH11Protocol")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from infra.demo import demo_actors, load_demo

    with _container() as c:
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
        if c.settings.view_feed == "log":  # with Kafka, the consumers keep the views
            c.follower.catch_up()  # so the first page served is complete at once
        print(f"Loaded {summary.needs} needs and {summary.proposals} proposals.")
        print(header + "\n".join(lines))
        print(f"(saved to {tokens_file})")
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
    from domain.permissions import ROLE_SCOPE, Role

    try:
        scope = ROLE_SCOPE[Role(args.role)]
    except ValueError:
        raise UserError(f"--role {args.role!r} is not a role; one of:"
                        f" {', '.join(r.value for r in Role)}") from None
    given = {"ward": args.ward, "office": args.office, "department": args.department}
    # An office's staff may name its ward too (it is checked against the office).
    takes = {"office": ("office", "ward"), "ward": ("ward",), "department": ("department",)}
    for option, value in given.items():
        if value is not None and option not in takes.get(scope or "", ()):
            raise UserError(f"--{option} {value!r}: role {args.role} takes"
                            f" {'--' + scope if scope else 'no scope'}, not --{option}")
    with _container() as c:
        known = {"ward": [w.id for w in c.city.wards], "office": [o.id for o in c.city.offices],
                 "department": [d.id for d in c.city.departments]}
        for option, value in given.items():
            ids = known[option]
            if value is not None and value not in ids:
                shown = ", ".join(ids[:12]) + (", …" if len(ids) > 12 else "")
                raise UserError(f"--{option} {value!r} is not a known {option} of"
                                f" {c.settings.city}; known: {shown}")
        user, token = c.users.add(args.name, args.role, args.ward, args.office,
                                  args.department)
    print(f"added user {user.id} ({user.name}, {user.role}, {_scope(user)})")
    print(token)
    return 0


def _users_list(_: argparse.Namespace) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    jst = ZoneInfo("Asia/Tokyo")

    def when(instant: str | None) -> str:
        return datetime.fromisoformat(instant).astimezone(jst).strftime("%Y-%m-%d %H:%M JST") \
            if instant else "-"

    with _container() as c:
        rows = [(u.id, u.role, _scope(u), when(u.created_at),
                 f"revoked {when(u.revoked_at)}" if u.revoked_at else "active", u.name)
                for u in c.users.list()]
    header = ("id", "role", "scope", "created", "state", "name")
    # The name goes last: Japanese names are two columns a character wide.
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def _users_revoke(args: argparse.Namespace) -> int:
    with _container() as c:
        user = c.users.revoke(args.user_id)
    print(f"revoked {user.id} ({user.name})")
    return 0


def _projections_status(_: argparse.Namespace) -> int:
    with _container() as c:
        head = c.app.position()
        states = c.view_feed.states()
        print(f"{'view':<18} {'feed':<6} {'state':<8} {'position':>9} {'lag':>7}   (log at {head})")
        for st in states:
            print(f"{st.view:<18} {st.feed:<6} {st.state:<8} {st.position:>9}"
                  f" {max(head - st.position, 0):>7}")
            for part in st.partitions:
                lag = "?" if part.lag is None else str(part.lag)
                print(f"  partition {part.partition:<3} next offset {part.next_offset:>9}"
                      f"  lag {lag:>7}")
            if st.failure is not None:
                f = st.failure
                print(f"  stopped at position {f.position} ({f.event_type}), {f.attempts}"
                      f" attempt(s), since {f.failed_at.isoformat()}: {f.error}")
        if c.settings.kafka_bootstrap:
            print_relay_status(c.settings, head)
    return 1 if any(st.failure for st in states) else 0


def _projections_rebuild(args: argparse.Namespace) -> int:
    with _container() as c:
        chosen = [v for v in c.views if args.name in (None, v.name)]
        if not chosen:
            names = ", ".join(v.name for v in c.views)
            raise UserError(f"no view named {args.name!r}; views: {names}")
        for view in chosen:
            view.drop()
        c.follower.reset(chosen)
        if c.settings.view_feed == "kafka":
            print(f"dropped {', '.join(v.name for v in chosen)}: restart `tsunagi consume`,"
                  " which reads the topic again from its first offset")
            return 0
        head = c.app.position()

        def progress(done: int, total: int) -> None:
            width = 40
            filled = width * done // max(total, 1)
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="",
                  file=sys.stderr, flush=True)

        progress(0, head)
        c.follower.batch_size = REBUILD_BATCH_SIZE
        c.follower.catch_up(progress)
        print(file=sys.stderr)
        failed = [v.name for v in chosen if v.name in c.follower.stopped]
        print(f"rebuilt {', '.join(v.name for v in chosen)} up to position {head}"
              + (f"; stopped on a failing event: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _metrics_report(args: argparse.Namespace) -> int:
    from datetime import datetime

    from api.metrics import report

    clocks = [clock.strip() for clock in args.clocks.split(",") if clock.strip()]
    unknown = [clock for clock in clocks if clock not in METRIC_CLOCKS]
    if unknown or not clocks:
        raise UserError(f"--clocks {args.clocks!r}: choose from {', '.join(METRIC_CLOCKS)}")
    as_of = None
    if args.as_of:
        try:
            as_of = datetime.fromisoformat(args.as_of)
        except ValueError as exc:
            raise UserError(f"--as-of: not an ISO 8601 instant: {args.as_of!r}") from exc
        if as_of.tzinfo is None:
            raise UserError("--as-of needs an offset (Z or +09:00)")
    with _container() as c:
        try:
            out = report(c, args.group_by, as_of, args.format, clocks)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    sys.stdout.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


def _metrics_plan_report(args: argparse.Namespace) -> int:
    """`tsunagi metrics plan-report`: the plan progress report as CSV (issue 11)."""
    from datetime import datetime

    from api.plan_metrics import plan_progress_report_csv

    try:
        as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    except ValueError as exc:
        raise UserError(f"--as-of: not an ISO 8601 instant: {args.as_of!r}") from exc
    if as_of is not None and as_of.tzinfo is None:
        raise UserError("--as-of needs an offset (Z or +09:00)")
    with _container() as c:
        try:
            out = plan_progress_report_csv(c, args.fiscal_year, as_of)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    sys.stdout.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
