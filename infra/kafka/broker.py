"""One Apache Kafka node (KRaft, broker and controller) run from Maven Central jars.

The jars are resolved once by Maven into `~/.cache/tsunagi/kafka/<version>/libs`
(outside the clone; a second run downloads nothing). A node lives in a folder of
its own: `server.properties`, its logs, a pid file and the KRaft data. Facts
behind the settings: `kafka-broker.md` in the shared docs; use: README "Scaling out".
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

VERSION = "4.3.1"
POM = Path(__file__).with_name("pom.xml")
#: how long a start may take before we give up (a restart after SIGKILL recovers its log)
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0

LOG4J2 = """\
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders><Console name="out" target="SYSTEM_OUT">
    <PatternLayout pattern="[%d] %p %m (%c)%n"/></Console></Appenders>
  <Loggers>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Root level="WARN"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
"""


class KafkaToolMissing(RuntimeError):
    """Java 17 or Maven is not installed, so no broker can be run here."""


class BrokerFailed(RuntimeError):
    """The broker did not start (the end of its log is in the message)."""


def cache_dir(version: str = VERSION) -> Path:
    """Where the jars of one Kafka version are kept, outside the clone."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "tsunagi" / "kafka" / version


def _require(tool: str, package: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise KafkaToolMissing(
            f"`{tool}` is not installed, and running Kafka needs it. Install Java 17 and"
            f" Maven (Debian/Ubuntu: sudo apt-get install {package}); scripts/test does this"
            " itself when run as root.")
    return found


def ensure_jars(version: str = VERSION) -> Path:
    """The folder of the broker's jars, resolved from Maven Central on first use."""
    libs = cache_dir(version) / "libs"
    if (libs / ".complete").exists():
        return libs
    _require("java", "openjdk-17-jre-headless")
    mvn = _require("mvn", "maven")
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    done = subprocess.run(
        [mvn, "-B", "-q", "-f", str(POM), f"-Dkafka.version={version}",
         "dependency:copy-dependencies", "-DincludeScope=runtime",
         f"-DoutputDirectory={partial}"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BrokerFailed(f"Maven could not resolve Kafka {version}:\n"
                           f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    (partial / ".complete").touch()
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    return libs


def _cluster_id() -> str:
    """16 random bytes, URL-safe base64 without padding, as Kafka's own ids are."""
    while True:
        cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster.startswith("-"):  # it would be read as an option
            return cluster


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class KafkaBroker:
    """A single-node Kafka in `home`; ports are chosen on first start and then kept."""

    home: Path
    version: str = VERSION

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def ports_file(self) -> Path:
        return self.home / "ports"

    @property
    def port(self) -> int:
        """The PLAINTEXT port clients connect to."""
        return int(self.ports_file.read_text().split()[0])

    @property
    def bootstrap(self) -> str:
        """`host:port` for `bootstrap_servers` (TSUNAGI_KAFKA_BOOTSTRAP)."""
        return f"127.0.0.1:{self.port}"

    def pid(self) -> int | None:
        """The broker's process id, if it runs."""
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError):
            return None
        return pid

    def running(self) -> bool:
        """True when the broker's process is alive and accepts connections."""
        return self.pid() is not None and _accepts(self.port)

    def start(self, *, detach: bool = False) -> None:
        """Start the node and return once it accepts connections."""
        if self.pid() is not None:
            raise BrokerFailed(f"a broker already runs from {self.home} (pid {self.pid()})")
        libs = ensure_jars(self.version)
        java = _require("java", "openjdk-17-jre-headless")
        self.home.mkdir(parents=True, exist_ok=True)
        if not self.ports_file.exists():
            self.ports_file.write_text(f"{free_port()} {free_port()}\n")
        port, controller = (int(p) for p in self.ports_file.read_text().split())
        for taken in (port, controller):
            if _accepts(taken):
                raise BrokerFailed(f"port {taken} is taken by another process")
        config = self._write_config(port, controller)
        jvm = [java, "-Xmx512m", "-Xms256m", "-XX:TieredStopAtLevel=1",
               "-Xlog:disable", "-Xlog:all=warning:stderr",
               f"-Dlog4j2.configurationFile={self.home / 'log4j2.xml'}",
               "-cp", f"{libs}/*"]
        archive = cache_dir(self.version) / "broker.jsa"
        # A class-data archive halves the start time; it is made by the first run's exit.
        jvm.append(f"-XX:SharedArchiveFile={archive}" if archive.exists()
                   else f"-XX:ArchiveClassesAtExit={archive}")
        if not (self.home / "kraft-meta" / "meta.properties").exists():
            formatted = subprocess.run(
                [*jvm[:-1], "kafka.tools.StorageTool", "format", "--standalone",
                 "-t", _cluster_id(), "-c", str(config)], capture_output=True, text=True,
                check=False)
            if formatted.returncode != 0:
                raise BrokerFailed(f"formatting {self.home} failed:\n{formatted.stdout}"
                                   f"{formatted.stderr}")
        out = (self.home / "broker.log").open("ab")
        process = subprocess.Popen([*jvm, "kafka.Kafka", str(config)], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=detach)
        out.close()
        self.pid_file.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + START_TIMEOUT
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                self.pid_file.unlink(missing_ok=True)
                tail = (self.home / "broker.log").read_text(errors="replace")[-3000:]
                raise BrokerFailed(f"Kafka did not start (exit {process.poll()}):\n{tail}")
            time.sleep(0.1)

    def _write_config(self, port: int, controller: int) -> Path:
        (self.home / "log4j2.xml").write_text(LOG4J2)
        lines = {
            "process.roles": "broker,controller", "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners":
                f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "controller.listener.names": "CONTROLLER", "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            # a separate metadata folder: a second broker on this config fails on its lock
            # instead of rewriting the live metadata log
            "log.dirs": str(self.home / "kraft-logs"),
            "metadata.log.dir": str(self.home / "kraft-meta"),
            "num.partitions": "1", "default.replication.factor": "1",
            "min.insync.replicas": "1", "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # a reader asking before the relay made the topic must not make it (1 partition)
            "auto.create.topics.enable": "false",
        }
        config = self.home / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        return config

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the node cleanly (SIGTERM), killing it if it does not end in time."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self._alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._alive(pid):
            os.kill(pid, signal.SIGKILL)
            while self._alive(pid):
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
            if done == pid:
                return False
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
