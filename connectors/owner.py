"""Who owns an embedded warehouse: the lease, the announcement other processes read, finding a live owner.

DuckDB lets one process write a file (and then no other may even read it), chdb one
process use a folder. finlens keeps every process working anyway: the process that
writes (``finlens collect``, ``finlens import``, ``finlens demo``) *owns* the file, and
while it does it answers the other processes' queries over a local HTTP port
(``owner_server.py``); readers give the file up when an owner appears and use it
(``shared.py``). Beside the warehouse ``PATH``:

- ``PATH.owner.lock``: locked (``flock``) by the owner for as long as it lives, so a
  ``kill -9`` frees it and a reader can tell a stale announcement from a live one;
- ``PATH.owner.json``: the owner's pid, port, read token and state (``opening`` until it
  holds the database, then ``serving``), readable like the warehouse itself;
- ``PATH.owner.key``: the token for loaders' writes, readable by the owner's account only.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from finlens_common.errors import WarehouseError

OPENING, SERVING = "opening", "serving"


@dataclass(frozen=True)
class Announcement:
    """What a reader needs to reach the owner: where it listens and the token for reads."""

    pid: int
    port: int
    token: str
    state: str
    command: str


def _files(path: str) -> tuple[Path, Path, Path]:
    base = Path(path)
    return (
        base.with_name(base.name + ".owner.lock"),
        base.with_name(base.name + ".owner.json"),
        base.with_name(base.name + ".owner.key"),
    )


def find_owner(path: str) -> Announcement | None:
    """The live owner of the warehouse at ``path``, or None (no announcement, or its process is gone)."""
    lock, announcement, _ = _files(path)
    if not announcement.exists():
        return None
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: the owner lives
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None  # the owner died without withdrawing its announcement
        try:
            return Announcement(**json.loads(announcement.read_text()))
        except (OSError, ValueError, TypeError):
            return None  # being rewritten: the caller looks again
    finally:
        os.close(fd)


def write_token(path: str) -> str:
    """The loaders' token of the live owner (readable by the owner's account only)."""
    try:
        return _files(path)[2].read_text().strip()
    except OSError as err:
        raise WarehouseError(
            f"warehouse {path!r} is owned by another process and its write key cannot be read ({err.strerror}); "
            "load as the account that owns the warehouse"
        ) from None


class Lease:
    """This process owns the warehouse at ``path``: the lock, the announcement, the write key."""

    def __init__(self, path: str, command: str, *, wait: float = 5.0):
        self.path = path
        self.command = command
        self.token = secrets.token_urlsafe(24)
        self.write_token = secrets.token_urlsafe(24)
        lock, self._announcement, self._key = _files(path)
        lock.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:  # a reader's probe lasts microseconds; an owner stays
                    os.close(self._fd)
                    owner = find_owner(path)
                    who = f"process {owner.pid} ({owner.command})" if owner else "another process"
                    raise WarehouseError(f"warehouse {path!r} is already owned by {who}") from None
                time.sleep(0.02)

    def announce(self, port: int, state: str) -> None:
        """Publish (atomically) where the owner listens and whether it holds the database yet."""
        self._key.write_text(self.write_token)
        os.chmod(self._key, 0o600)
        text = json.dumps(asdict(Announcement(os.getpid(), port, self.token, state, self.command)))
        temporary = self._announcement.with_name(self._announcement.name + f".{os.getpid()}")
        temporary.write_text(text)
        os.chmod(temporary, _readable_like(self.path))
        os.replace(temporary, self._announcement)

    def release(self) -> None:
        """Withdraw the announcement, then free the lock (readers go back to the file)."""
        for file in (self._announcement, self._key):
            file.unlink(missing_ok=True)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _readable_like(path: str) -> int:
    """The announcement can be read by whoever may read the warehouse; only the owner writes it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return 0o644
    return (mode & 0o444) | 0o200
