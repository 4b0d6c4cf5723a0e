"""A PostgreSQL wire-protocol proxy that counts what clients ask the server to run.

The benchmark compares servers built on different drivers (asyncpg, node-postgres), and
`pg_stat_statements` is not preloaded on the benchmark's server (nor may we change its
configuration), so statements per request are counted where every driver must pass: on
the wire, between the servers and PostgreSQL. Point a server at `Proxy.port` instead of
5432; the proxy relays both directions byte for byte and parses only what clients send.

    with counting_proxy() as proxy:
        url = proxy.route("postgresql+asyncpg://postgres@127.0.0.1:5432/bench")
        ... start a server on `url`, warm it up ...
        proxy.reset()
        ... send N requests, let them finish ...
        counts = proxy.snapshot()  # counts.statements / N is statements per request

What is counted (`Counts`):
- `statements`: each Execute of the extended protocol, and each statement of a simple
  Query message (a Query holding `SELECT 1; SELECT 2` counts two), that is not
  transaction control. An Execute resuming a suspended portal (a cursor fetching its
  next batch) counts again, as it is another trip to the server.
- `transaction_control`: BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT,
  SAVEPOINT, RELEASE and PREPARE TRANSACTION, whichever protocol carried them.
- `round_trips`: Sync, simple Query and Flush messages: the times a client waits for
  PostgreSQL. Sync and Query make the server answer with ReadyForQuery; Flush is counted
  too because asyncpg prepares a statement it has not cached with Parse, Describe and
  Flush and waits for the description before it binds (an upper bound when a driver
  pipelines several Syncs, or sends Flush without waiting).
- `empty_queries`: statements holding nothing (`;`): pings such as SQLAlchemy's
  `pool_pre_ping` with asyncpg, one per connection checkout. Neither statements nor
  transaction control, but each costs its round trip.
- `connections`: client connections opened (a pool that reconnects per request shows).
- `texts`: how often each statement text ran (squeezed whitespace, cut at 200
  characters), to see what the numbers are made of.

Messages are counted when the proxy reads them, before it forwards them, so a snapshot
taken after a response arrived holds every statement that produced it. Statements that
PostgreSQL refused still count (the client asked for them).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import struct
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit, urlunsplit

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
# The messages whose content matters; the others (CopyData above all) are skipped unread.
_PARSED = frozenset(b"QPBESCH")
_TEXT_LIMIT = 200
_DISTINCT_TEXTS = 1000
_TRANSACTION_WORDS = frozenset(
    {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"}
)


@dataclass(frozen=True, slots=True)
class Counts:
    statements: int = 0
    transaction_control: int = 0
    round_trips: int = 0
    empty_queries: int = 0
    connections: int = 0
    texts: Mapping[str, int] = field(default_factory=dict)


class Tally:
    """The counters every connection adds to; read and reset from the orchestrator's
    thread, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statements = 0
        self._transaction_control = 0
        self._round_trips = 0
        self._empty_queries = 0
        self._connections = 0
        self._texts: Counter[str] = Counter()

    def ran(self, sql: str) -> None:
        """One Execute or simple Query of `sql`."""
        statements = classified(sql)
        with self._lock:
            if not statements:
                self._empty_queries += 1
            for text, control in statements:
                if control:
                    self._transaction_control += 1
                else:
                    self._statements += 1
                if text in self._texts or len(self._texts) < _DISTINCT_TEXTS:
                    self._texts[text] += 1
                else:
                    self._texts["<other texts>"] += 1

    def round_trip(self) -> None:
        with self._lock:
            self._round_trips += 1

    def connected(self) -> None:
        with self._lock:
            self._connections += 1

    def reset(self) -> None:
        with self._lock:
            self._statements = self._transaction_control = 0
            self._round_trips = self._empty_queries = self._connections = 0
            self._texts = Counter()

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(
                statements=self._statements,
                transaction_control=self._transaction_control,
                round_trips=self._round_trips,
                empty_queries=self._empty_queries,
                connections=self._connections,
                texts=MappingProxyType(dict(self._texts.most_common())),
            )


class FrontendStream:
    """One client connection's stream after its startup message: frames typed messages
    from reads of any size (a message may span many reads, a read many messages) and
    keeps the prepared statements and portals that say what an Execute runs."""

    def __init__(self, tally: Tally) -> None:
        self._tally = tally
        self._buffer = bytearray()
        self._skip = 0  # bytes left of a message whose content does not matter
        self._statements: dict[str, str] = {}  # statement name ("" unnamed) -> SQL
        self._portals: dict[str, str] = {}  # portal name -> SQL

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        if self._skip:
            skipped = min(self._skip, len(view))
            self._skip -= skipped
            view = view[skipped:]
        buffer = self._buffer
        buffer += view
        position = 0
        while len(buffer) - position >= 5:
            kind = buffer[position]
            (length,) = struct.unpack_from("!I", buffer, position + 1)
            if length < 4:
                raise ProtocolError(f"message {chr(kind)!r} declares length {length}")
            end = position + 1 + length
            if kind not in _PARSED:
                if end > len(buffer):
                    self._skip = end - len(buffer)
                    position = len(buffer)
                    break
                position = end
                continue
            if end > len(buffer):
                break
            self._message(kind, bytes(buffer[position + 5 : end]))
            position = end
        del buffer[:position]

    def _message(self, kind: int, body: bytes) -> None:
        if kind == ord("Q"):
            self._tally.round_trip()
            self._tally.ran(_cstrings(body, 1)[0])
        elif kind == ord("P"):
            name, sql = _cstrings(body, 2)
            self._statements[name] = sql
        elif kind == ord("B"):
            portal, statement = _cstrings(body, 2)
            self._portals[portal] = self._statements.get(statement, _UNSEEN)
        elif kind == ord("E"):
            self._tally.ran(self._portals.get(_cstrings(body, 1)[0], _UNSEEN))
        elif kind in (ord("S"), ord("H")):
            self._tally.round_trip()
        elif kind == ord("C") and body:
            name = _cstrings(body[1:], 1)[0]
            if body[:1] == b"S":
                self._statements.pop(name, None)
            else:
                self._portals.pop(name, None)


class ProtocolError(Exception):
    """The client stream is not PostgreSQL's protocol as the proxy understands it."""


def _cstrings(body: bytes, count: int) -> list[str]:
    """The first `count` NUL-terminated strings of a message body."""
    parts = body.split(b"\0", count)
    if len(parts) <= count:
        raise ProtocolError("a message ends inside a string")
    return [part.decode("utf-8", "replace") for part in parts[:count]]


_UNSEEN = "<a statement the proxy did not see prepared>"


@functools.lru_cache(maxsize=4096)
def classified(sql: str) -> tuple[tuple[str, bool], ...]:
    """Per statement of `sql`: its text as reported (whitespace squeezed, cut short)
    and whether it is transaction control. Cached: drivers send the same texts again
    and again, and the lexer is Python."""
    return tuple(
        (" ".join(statement.split())[:_TEXT_LIMIT], is_transaction_control(statement))
        for statement in split_statements(sql)
    )


def is_transaction_control(sql: str) -> bool:
    words = _leading_words(sql, 2)
    if not words:
        return False
    return words[0] in _TRANSACTION_WORDS or words == ["PREPARE", "TRANSACTION"]


_WORD = re.compile(r"(?:\s|--[^\n]*|/\*.*?\*/)*+([A-Za-z_]+)", re.DOTALL)


def _leading_words(sql: str, count: int) -> list[str]:
    """The first keywords of a statement, past whitespace and (unnested) comments."""
    words: list[str] = []
    position = 0
    while len(words) < count:
        match = _WORD.match(sql, position)
        if match is None:
            break
        words.append(match[1].upper())
        position = match.end()
    return words


def split_statements(sql: str) -> list[str]:
    """The statements of a simple Query, split at semicolons outside of quotes,
    dollar quotes and comments; empty statements (`;;`, a comment alone) are dropped."""
    statements: list[str] = []
    start = index = 0
    code = False  # whether the statement so far holds more than whitespace and comments
    length = len(sql)
    while index < length:
        char = sql[index]
        if char == ";":
            if code:
                statements.append(sql[start:index])
            start = index = index + 1
            code = False
        elif sql.startswith("--", index):
            newline = sql.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif sql.startswith("/*", index):
            index = _comment_end(sql, index)
        elif char.isspace():
            index += 1
        else:
            code = True
            if char == "'":
                escapes = index > 0 and sql[index - 1] in "eE" and not _word_before(sql, index - 1)
                index = _quoted_end(sql, index, "'", escapes)
            elif char == '"':
                index = _quoted_end(sql, index, '"', False)
            elif (
                char == "$" and not _word_before(sql, index) and (tag := _DOLLAR.match(sql, index))
            ):
                close = sql.find(tag[0], tag.end())
                index = length if close < 0 else close + len(tag[0])
            else:
                index += 1
    if code:
        statements.append(sql[start:])
    return statements


_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")


def _word_before(sql: str, index: int) -> bool:
    return index > 0 and (sql[index - 1].isalnum() or sql[index - 1] in "_$")


def _quoted_end(sql: str, index: int, quote: str, escapes: bool) -> int:
    """The index just past the quoted text opening at `index` (doubled quotes and, in
    E'' strings, backslashes escape)."""
    index += 1
    while index < len(sql):
        char = sql[index]
        if escapes and char == "\\":
            index += 2
        elif char == quote:
            if sql.startswith(quote, index + 1):
                index += 2
            else:
                return index + 1
        else:
            index += 1
    return len(sql)


def _comment_end(sql: str, index: int) -> int:
    depth = 0
    while index < len(sql):
        if sql.startswith("/*", index):
            depth += 1
            index += 2
        elif sql.startswith("*/", index):
            depth -= 1
            index += 2
            if depth == 0:
                return index
        else:
            index += 1
    return len(sql)


class Proxy:
    """The running proxy: a listening socket on 127.0.0.1 served by an asyncio loop in a
    thread of its own, so that a synchronous orchestrator can use it."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._upstream = (upstream_host, upstream_port)
        self._tally = Tally()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pgcount", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def reset(self) -> None:
        self._tally.reset()

    def snapshot(self) -> Counts:
        return self._tally.snapshot()

    def route(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the proxy's (user, password,
        database and query kept)."""
        parts = urlsplit(database_url)
        user = parts.netloc.rpartition("@")[0]
        netloc = f"{user}@{self.host}:{self.port}" if user else f"{self.host}:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)

    def stop(self) -> None:
        """Stop listening, close every connection, end the loop and its thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Tracked here rather than left to start_server, so that stop() can end them all.
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            startup = await self._startup(reader, writer)
            up_reader, upstream = await asyncio.open_connection(*self._upstream)
            self._writers.add(upstream)
            code = struct.unpack_from("!I", startup, 4)[0]
            upstream.write(startup)
            if code == CANCEL_REQUEST:  # no answer comes; PostgreSQL closes the socket
                await upstream.drain()
                await up_reader.read()
                return
            self._tally.connected()
            stream = FrontendStream(self._tally)
            pumps = [
                asyncio.ensure_future(_pump(reader, upstream, stream.feed)),
                asyncio.ensure_future(_pump(up_reader, writer, None)),
            ]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        except (OSError, asyncio.IncompleteReadError, ProtocolError):
            pass  # the client (or PostgreSQL) went away, or spoke what we cannot count
        finally:
            for end in (writer, upstream):
                if end is not None:
                    self._writers.discard(end)
                    end.close()
                    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                        await end.wait_closed()

    async def _startup(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        """Read the untyped startup phase: refuse SSL and GSS encryption (the client goes
        on in plain text) until the startup message or a CancelRequest arrives."""
        while True:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!II", head)
            if length < 8 or length > 10_000:
                raise ProtocolError(f"startup message of length {length}")
            message = head + await reader.readexactly(length - 8)
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                writer.write(b"N")
                await writer.drain()
                continue
            return message


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    inspect: Callable[[bytes], None] | None,
) -> None:
    """Relay one direction until end of stream, showing each read to `inspect` before
    forwarding it (so a statement is counted before the server can answer it)."""
    while data := await reader.read(65536):
        if inspect is not None:
            inspect(data)
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


@contextmanager
def counting_proxy(upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> Iterator[Proxy]:
    """A running counting proxy to `upstream_host:upstream_port`, closed with every
    connection through it when the block ends."""
    proxy = Proxy(upstream_host, upstream_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
