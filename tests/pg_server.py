"""A throwaway PostgreSQL server for a test session (architecture decision 4).

If ``TSUNAGI_TEST_POSTGRES_URL`` is set, that server is used as is: it is
neither started nor stopped, and only the databases created here are dropped
at the end.  Otherwise a fresh cluster is created in a temporary directory
with the system's ``initdb``/``pg_ctl`` and listens on a free port of
127.0.0.1.

``initdb`` and ``pg_ctl`` refuse to run as root, and CI runs as root: as root
the cluster belongs to the ``postgres`` system user (created if missing) and
the tools run through ``runuser -u postgres --``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ENV_URL = "TSUNAGI_TEST_POSTGRES_URL"
"""Environment variable naming an existing server to use instead."""

SYSTEM_USER = "postgres"
"""Unprivileged system user that owns the cluster when the tests run as root."""

SUPERUSER = "tsunagi"
"""Database superuser created by ``initdb``."""

PASSWORD = "tsunagi"
"""The superuser's password.  Authentication is ``trust``, so it is not checked, but
it is in the URL because some clients (eventsourcing's ``POSTGRES_PASSWORD``) insist
on one."""

DEFAULT_DBNAME = "tsunagi_test"
"""Database created at start; :attr:`PostgresServer.url` points at it."""

STARTUP_TIMEOUT = 30.0
"""Seconds to wait for the server to accept connections."""

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found in "
    "/usr/lib/postgresql/*/bin or on PATH. Install them (Debian/Ubuntu: "
    "`apt-get install postgresql`; scripts/test does this when run as root), "
    f"or set {ENV_URL}=postgresql://user:pass@host:port/dbname to use an existing server."
)


class PostgresServerError(RuntimeError):
    """The test PostgreSQL server could not be started, reached or controlled."""


def find_bindir() -> Path:
    """Return the directory holding ``initdb`` and ``pg_ctl``.

    The newest version under ``/usr/lib/postgresql/*/bin`` (Debian's layout)
    wins; otherwise the directory of ``initdb`` on ``PATH``.
    """

    def version_key(bindir: Path) -> tuple[int, ...]:
        name = bindir.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    candidates = [
        Path(p).parent
        for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if (Path(p).parent / "pg_ctl").exists()
    ]
    if candidates:
        return max(candidates, key=version_key)
    initdb = shutil.which("initdb")
    if initdb is not None:
        bindir = Path(initdb).resolve().parent
        if (bindir / "pg_ctl").exists():
            return bindir
        pg_ctl = shutil.which("pg_ctl")
        if pg_ctl is not None:
            return Path(pg_ctl).resolve().parent
    raise PostgresServerError(INSTALL_HINT)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def with_dbname(url: str, dbname: str) -> str:
    """Return ``url`` with its database (the path) replaced by ``dbname``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def ensure_system_user(name: str = SYSTEM_USER) -> None:
    """Create the unprivileged system user ``name`` if it does not exist (needs root)."""
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    try:
        import grp

        grp.getgrnam(name)
        group_args = ["--gid", name]
    except KeyError:
        group_args = ["--user-group"]
    subprocess.run(
        ["useradd", "--system", *group_args, "--no-create-home",
         "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
        text=True,
    )


class PostgresServer:
    """One PostgreSQL server for a test session.

    Use :meth:`start` once, :meth:`create_database` per test, :meth:`stop` at
    the end.  :attr:`url` points at the ``tsunagi_test`` database (or at the
    server named by ``TSUNAGI_TEST_POSTGRES_URL``).
    """

    def __init__(self, *, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        """Prepare (but do not start) a server; reads ``TSUNAGI_TEST_POSTGRES_URL``."""
        self.startup_timeout = startup_timeout
        self._external_url: str | None = os.environ.get(ENV_URL) or None
        self._url: str | None = self._external_url
        self._tempdir: Path | None = None
        self._bindir: Path | None = None
        self._port: int | None = None
        self._created: list[str] = []
        self._as_root = os.geteuid() == 0

    # ---------------------------------------------------------------- facts

    @property
    def external(self) -> bool:
        """True when the server is the one named by ``TSUNAGI_TEST_POSTGRES_URL``."""
        return self._external_url is not None

    @property
    def url(self) -> str:
        """``postgresql://tsunagi:tsunagi@127.0.0.1:PORT/tsunagi_test`` (or the external URL)."""
        if self._url is None:
            raise PostgresServerError("PostgresServer.url read before start()")
        return self._url

    @property
    def port(self) -> int | None:
        """TCP port of the throwaway server (None for an external one or before start)."""
        return self._port

    @property
    def log_path(self) -> Path | None:
        """The throwaway server's log file (None for an external server)."""
        return None if self._tempdir is None else self._tempdir / "server.log"

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the throwaway server and create ``tsunagi_test``.

        With an external server, only check that it accepts connections.
        """
        if self.external:
            self._wait_until_ready(self.url)
            return
        if self._tempdir is not None:
            raise PostgresServerError("PostgresServer already started")
        self._bindir = find_bindir()
        self._tempdir = Path(tempfile.mkdtemp(prefix="tsunagi-pg-"))
        atexit.register(self.stop)
        try:
            if self._as_root:
                ensure_system_user()
                shutil.chown(self._tempdir, user=SYSTEM_USER, group=None)
                self._check_accessible()
            self._run("initdb", "-D", str(self._datadir), "--auth=trust", "-U", SUPERUSER,
                      "--encoding=UTF8", "--locale=C", "--no-sync")
            for attempt in range(3):
                # The port may be taken between free_port() and the bind: retry then.
                self._port = free_port()
                result = self._run("pg_ctl", "start", "-D", str(self._datadir),
                                   "-l", str(self.log_path), "-w",
                                   "-t", str(int(self.startup_timeout)),
                                   "-o", self._server_options(), check=attempt == 2)
                if result.returncode == 0:
                    break
                if "could not bind" not in self._log_tail():
                    raise PostgresServerError(
                        f"pg_ctl start failed:\n{result.stdout}{result.stderr}{self._log_tail()}"
                    )
            admin_url = f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{self._port}/postgres"
            self._wait_until_ready(admin_url)
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(SUPERUSER), sql.Literal(PASSWORD))
                )
                conn.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEFAULT_DBNAME))
                )
            self._url = with_dbname(admin_url, DEFAULT_DBNAME)
        except BaseException:
            self.stop()
            raise

    def restart(self) -> None:
        """Restart the throwaway server (``pg_ctl restart -m fast``) and wait until it is up.

        Clients lose their connections; data written and committed survives.
        """
        if self.external:
            raise PostgresServerError(f"cannot restart the external server named by {ENV_URL}")
        if self._tempdir is None:
            raise PostgresServerError("PostgresServer.restart() before start()")
        self._run("pg_ctl", "restart", "-D", str(self._datadir), "-l", str(self.log_path),
                  "-m", "fast", "-w", "-t", str(int(self.startup_timeout)),
                  "-o", self._server_options())
        self._wait_until_ready(self.url)

    def stop(self) -> None:
        """Stop the throwaway server (``pg_ctl stop -m immediate``) and remove its files.

        With an external server, drop the databases :meth:`create_database` made.
        Safe to call more than once.
        """
        if self.external:
            self._drop_created()
            return
        tempdir, self._tempdir = self._tempdir, None
        if tempdir is None:
            return
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        try:
            if (tempdir / "data" / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(tempdir / "data"), "-m", "immediate",
                          "-w", check=False, cwd=tempdir)
        finally:
            shutil.rmtree(tempdir, ignore_errors=True)
            self._url = None
            self._port = None

    # -------------------------------------------------------------- per test

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._created.append(name)
        return with_dbname(self.url, name)

    # ------------------------------------------------------------- internals

    @property
    def _datadir(self) -> Path:
        assert self._tempdir is not None
        return self._tempdir / "data"

    def _server_options(self) -> str:
        return (f"-c listen_addresses=127.0.0.1 -p {self._port} -k {self._tempdir} "
                "-c fsync=off -c max_connections=200")

    def _run(self, tool: str, *args: str, check: bool = True,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool, as the ``postgres`` user when we are root."""
        assert self._bindir is not None
        command = [str(self._bindir / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        # cwd must be readable by the postgres user (not e.g. /root/...).
        result = subprocess.run(command, cwd=cwd or self._tempdir, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True,
                                env={**os.environ, "LC_ALL": "C"})
        if check and result.returncode != 0:
            raise PostgresServerError(
                f"{tool} failed with exit code {result.returncode}: {' '.join(command)}\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )
        return result

    def _check_accessible(self) -> None:
        """Fail clearly when the postgres user cannot write to the temp dir."""
        assert self._tempdir is not None
        probe = subprocess.run(["runuser", "-u", SYSTEM_USER, "--", "test", "-w",
                                str(self._tempdir)], cwd="/", capture_output=True)
        if probe.returncode != 0:
            raise PostgresServerError(
                f"the {SYSTEM_USER} user cannot write to {self._tempdir}; a parent directory "
                "is not accessible to it (set TMPDIR to a world-accessible directory, e.g. /tmp)"
            )

    def _wait_until_ready(self, url: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as error:
                last_error = error
                time.sleep(0.1)
        raise PostgresServerError(
            f"PostgreSQL at {url} did not accept connections within "
            f"{self.startup_timeout:.0f} s: {last_error}{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        log = self.log_path
        if log is None or not log.exists():
            return ""
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        return f"\n--- last lines of {log} ---\n" + "\n".join(tail)

    def _drop_created(self) -> None:
        created, self._created = self._created, []
        if not created:
            return
        with contextlib.suppress(psycopg.Error), psycopg.connect(
                self.url, autocommit=True) as conn:
            for name in created:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                             .format(sql.Identifier(name)))
