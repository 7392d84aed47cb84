"""A throwaway PostgreSQL server on loopback for the tests (Debian's postgresql package).

``scripts/install-postgres`` installs the server binaries; here a cluster is
initialised in a temporary folder with password authentication, started on a
free port on 127.0.0.1, and stopped when the tests end.
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


@dataclass
class PostgresServer:
    data: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        _run_as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(self.data.parent, ignore_errors=True)


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
    _run_as_owner([
        str(bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={password_file}",
        "--auth=scram-sha-256", "--no-locale", "--encoding=UTF8", "--no-sync",
    ])
    port = _free_port()
    settings = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    result = _run_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", settings, "-l", str(folder / "server.log"), "-w", "start"], check=False)
    if result.returncode != 0:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()} {log[-500:]}")
    return PostgresServer(data=data, port=port, bindir=bindir)
