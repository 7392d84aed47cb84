"""A throwaway PostgreSQL server on loopback for the tests (Debian's postgresql package).

``scripts/install-postgres`` installs the server binaries; here a cluster is
initialised in a temporary folder with password authentication, started on a
free port on 127.0.0.1, and stopped when the tests end.

Two roles, as README's deployment recipe has them: ``finlens`` owns the
tables (the loaders write as it), and ``finlens_reader`` may only read them,
in every database (default privileges are set in ``template1`` too). Queries
in the tests connect as the reader, never as a superuser.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD, DATABASE = "finlens", "finlens-test", "postgres"
READER, READER_PASSWORD = "finlens_reader", "finlens-reader-test"
READER_GRANTS = (
    f"GRANT USAGE ON SCHEMA public TO {READER}",
    f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {READER}",
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {USER} IN SCHEMA public GRANT SELECT ON TABLES TO {READER}",
)


@dataclass
class PostgresServer:
    data: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        """The owner's URL: for loading data."""
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def reader_url(self) -> str:
        """A role granted only SELECT: for every query."""
        return self.reader(self.url)

    @staticmethod
    def reader(url: str) -> str:
        """``url`` (any database of this server) with the read-only role's credentials."""
        return url.replace(f"{USER}:{PASSWORD}@", f"{READER}:{READER_PASSWORD}@", 1)

    def stop(self) -> None:
        _run_as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.data.parent, ignore_errors=True)

    def pause(self) -> None:
        """Shut the server down (an outage), keeping its data for :meth:`resume`."""
        _run_as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def resume(self) -> None:
        """Start the server again on the same port, with the same data."""
        _start(self.bindir, self.data, self.port)


def find_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as_owner(command: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    """PostgreSQL refuses to run as root: run as the postgres user when we are root."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)


def start_postgres() -> PostgresServer:
    """Start a cluster in a new folder under the system temp dir (which the postgres user can reach)."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found: run scripts/install-postgres")
    folder = Path(tempfile.mkdtemp(prefix="finlens-pg-"))
    data = folder / "pgdata"
    password_file = folder / "pwfile"
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(password_file, "postgres")
        os.chmod(folder, 0o700)
    _run_as_owner(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--no-locale",
            "--encoding=UTF8",
            "--no-sync",
        ]
    )
    port = _free_port()
    _start(bindir, data, port)
    server = PostgresServer(data=data, port=port, bindir=bindir)
    _create_reader(server)
    return server


def _start(bindir: Path, data: Path, port: int) -> None:
    folder = data.parent
    settings = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    result = _run_as_owner(
        [str(bindir / "pg_ctl"), "-D", str(data), "-o", settings, "-l", str(folder / "server.log"), "-w", "start"],
        check=False,
    )
    if result.returncode != 0:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()} {log[-500:]}")


def _create_reader(server: PostgresServer) -> None:
    import psycopg

    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{READER_PASSWORD}'")
        for grant in READER_GRANTS:
            conn.execute(grant)
    with psycopg.connect(server.url.rsplit("/", 1)[0] + "/template1", autocommit=True) as conn:
        for grant in READER_GRANTS:
            conn.execute(grant)
