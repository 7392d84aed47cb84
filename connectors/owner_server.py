"""The owner's door for other processes: reads and loaders' sessions over HTTP on 127.0.0.1.

Starlette routes under uvicorn, in a thread of the owning process, on a port only the
announcement names (``owner.py``). Every request carries a bearer token: the read token
reaches ``/read/*`` only, where each call is exactly one SELECT on a sandboxed view
(:meth:`Warehouse.serve_reads`: DuckDB's READ ONLY transaction on a sealed instance,
chdb's ``readonly = 1`` session); the write token (the owner's account only) opens a
loader's session (:meth:`Warehouse.serve_writes`). Results are Arrow IPC (``wire.py``);
a refusal is one line of text with status 422.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from connectors.base import Warehouse
from connectors.wire import ipc_to_table, rows_to_ipc, table_to_ipc
from finlens_common.errors import WarehouseError

ARROW = "application/vnd.apache.arrow.stream"
MAX_REQUEST_BYTES = 1 << 30  # a loader's Arrow batch; readers send one statement
SESSION_IDLE_SECONDS = 600


class _Session:
    def __init__(self, warehouse: Warehouse):
        self.warehouse, self.lock, self.used = warehouse, threading.Lock(), time.monotonic()


class OwnerServer:
    """Serves ``reads`` (a sandboxed view) and loaders' sessions opened from ``writer`` until stopped."""

    def __init__(self, writer: Warehouse, read_token: str, write_token: str):
        self.writer, self.read_token, self.write_token = writer, read_token, write_token
        self.reads: Warehouse | None = None  # set once the owner holds the database
        self.sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        routes = [Route("/ping", self._ping, methods=["GET"])]
        routes += [Route(f"/read/{op}", self._read, methods=["POST"]) for op in ("query", "arrow", "has_table")]
        routes.append(Route("/write/open", self._open, methods=["POST"]))
        routes.append(Route("/write/{session}/{op}", self._write, methods=["POST"]))
        config = uvicorn.Config(
            Starlette(routes=routes), log_level="warning", lifespan="off", timeout_graceful_shutdown=30
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise WarehouseError("the warehouse owner could not start serving other processes on 127.0.0.1")

    def stop(self) -> None:
        """Finish the requests in flight, then close every loader's session."""
        self._server.should_exit = True
        self._thread.join(timeout=40)
        self._socket.close()
        for session in list(self.sessions.values()):
            session.warehouse.close()
        self.sessions.clear()

    def _allowed(self, request: Request, token: str) -> bool:
        header = request.headers.get("authorization", "")
        return secrets.compare_digest(header.encode(), f"Bearer {token}".encode())

    async def _ping(self, request: Request) -> Response:
        return PlainTextResponse("serving" if self.reads is not None else "opening")

    async def _read(self, request: Request) -> Response:
        if not self._allowed(request, self.read_token):
            return PlainTextResponse("refused: wrong or missing read token", status_code=401)
        reads = self.reads
        if reads is None:
            return PlainTextResponse("the owner is still opening the warehouse", status_code=503)
        body = await _body(request)
        op = request.url.path.rsplit("/", 1)[1]
        return await run_in_threadpool(_answer, reads, op, body, request.query_params.get("table", ""))

    async def _open(self, request: Request) -> Response:
        if not self._allowed(request, self.write_token):
            return PlainTextResponse("refused: wrong or missing write token", status_code=401)
        self._expire()
        warehouse = await run_in_threadpool(self.writer.serve_writes)
        name = secrets.token_urlsafe(12)
        with self._lock:
            self.sessions[name] = _Session(warehouse)
        return PlainTextResponse(name)

    async def _write(self, request: Request) -> Response:
        if not self._allowed(request, self.write_token):
            return PlainTextResponse("refused: wrong or missing write token", status_code=401)
        name, op = request.path_params["session"], request.path_params["op"]
        session = self.sessions.get(name)
        if session is None:
            return PlainTextResponse(f"no loader session {name!r} (closed or expired)", status_code=404)
        body = await _body(request)
        if op == "close":
            with self._lock:
                self.sessions.pop(name, None)
            await run_in_threadpool(_locked, session, lambda: session.warehouse.close())
            return PlainTextResponse("closed")
        table = request.query_params.get("table", "")
        return await run_in_threadpool(_locked, session, lambda: _answer(session.warehouse, op, body, table))

    def _expire(self) -> None:
        """Close sessions a loader left behind (it died) after ``SESSION_IDLE_SECONDS``."""
        now = time.monotonic()
        with self._lock:
            stale = [n for n, s in self.sessions.items() if now - s.used > SESSION_IDLE_SECONDS and not s.lock.locked()]
            for name in stale:
                self.sessions.pop(name).warehouse.close()


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise WarehouseError("request too large for the warehouse owner")
        chunks.append(chunk)
    return b"".join(chunks)


def _locked(session: _Session, work: Callable[[], Any]) -> Any:
    with session.lock:
        session.used = time.monotonic()
        try:
            return work()
        finally:
            session.used = time.monotonic()


def _answer(warehouse: Warehouse, op: str, body: bytes, table: str) -> Response:
    """Run one call on ``warehouse``; a WarehouseError becomes its one line with status 422."""
    try:
        if op == "query":
            return Response(rows_to_ipc(warehouse.query(body.decode())), media_type=ARROW)
        if op == "arrow":
            return Response(table_to_ipc(warehouse.query_arrow(body.decode())), media_type=ARROW)
        if op == "has_table":
            return PlainTextResponse("1" if warehouse.has_table(table) else "0")
        if op == "execute":
            warehouse.execute(body.decode())
        elif op == "append":
            warehouse.append(table, ipc_to_table(body))
        elif op in ("begin", "commit", "rollback"):
            warehouse.execute({"begin": "BEGIN TRANSACTION", "commit": "COMMIT", "rollback": "ROLLBACK"}[op])
        else:
            return PlainTextResponse(f"unknown operation {op!r}", status_code=404)
        return PlainTextResponse("ok")
    except WarehouseError as err:
        return PlainTextResponse(str(err).splitlines()[0], status_code=422)
    except (UnicodeDecodeError, ValueError) as err:
        return PlainTextResponse(f"bad request: {type(err).__name__}", status_code=400)
