"""The SQLite connections that objects' in-memory databases are opened on, and the pool of idle ones.

Connecting costs as much as the rest of a cold start, so a closed in-memory database leaves its
connection here (up to :data:`IDLE_CONNECTIONS`) and the next cold start takes it:
``deserialize()`` replaces its whole database, with the image of the object that wakes, or with
:data:`EMPTY` for a new one. A connection the user's SQL ran on is never kept (a PRAGMA of theirs
must not reach another object), and the user's SQL never runs on a reused one (``changes()`` and
``total_changes()`` count per connection): see ``Database.user_statements``.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable

from dolab.runtime.authorizer import LIMITS

# sqlite3 caches prepared statements by their text, and SQLite asks the authorizer only when a
# statement is prepared. dolab's own statements start with this per-process marker, so no user
# statement can ever share their cache entry (and skip the authorizer).
INTERNAL = f"/*dolab:{secrets.token_hex(8)}*/ "

def fresh() -> sqlite3.Connection:
    """A new in-memory connection (not yet configured: :func:`configure` does that)."""
    return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)


def configure(conn: sqlite3.Connection) -> sqlite3.Connection:
    """What every object's connection has, whoever used it before (dolab's settings only)."""
    for limit, value in LIMITS.items():
        conn.setlimit(limit, value)
    # workerd turns foreign keys on for every object (SQLite's own default is off).
    conn.execute(INTERNAL + "PRAGMA foreign_keys = ON")
    return conn


#: Connections of closed in-memory databases, ready for the next cold start (any thread may
#: take one: list.pop and list.append are atomic).
IDLE_CONNECTIONS = 16
IDLE: list[sqlite3.Connection] = []
# What a closed Database points at: any later use fails, as on a closed connection.
CLOSED = sqlite3.connect(":memory:")
CLOSED.close()


def _empty_image() -> bytes:
    """A database with nothing in it, as one page: what a new connection holds once it is written
    to (SQLite cannot deserialize zero pages). A reused connection is emptied with it."""
    conn = fresh()
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")
    conn.execute("VACUUM")
    image = conn.serialize()
    conn.close()
    return image


EMPTY = _empty_image()


def release(conn: sqlite3.Connection) -> None:
    """Keep a closed database's connection for the next cold start (or close it if enough are kept)."""
    if len(IDLE) < IDLE_CONNECTIONS:
        IDLE.append(conn)
    else:
        conn.close()


def for_user(conn: sqlite3.Connection, authorizer: Callable[..., int], base_changes: int) -> sqlite3.Connection:
    """The connection a reused one's database moves to before the user's first statement, which
    must not tell that it served another object: ``total_changes()`` and ``changes()`` count per
    connection, and a refused statement on a reused one fails with SQLITE_SCHEMA (its schema
    reload) instead of SQLITE_AUTH. Outside a transaction the database moves to a fresh connection
    (the reused one goes back to the pool, untouched by the user). Inside one (its writes cannot
    move) it stays, and ``total_changes()`` counts from ``base_changes``, the count when it came;
    ``changes()`` is then its own, since it wrote in that transaction. Called with the database's
    authorizer letting dolab's statements through."""
    if not conn.in_transaction:
        pages = conn.execute(INTERNAL + "PRAGMA page_count").fetchone()[0]
        image = conn.serialize() if pages else None
        moved = configure(fresh())
        if image is not None:
            moved.deserialize(image)
        moved.set_authorizer(authorizer)  # after: deserialize() asks the authorizer too
        conn.set_authorizer(None)
        release(conn)
        conn = moved
    else:
        conn.create_function("total_changes", 0, lambda: conn.total_changes - base_changes)
    conn.execute(INTERNAL + "SELECT count(*) FROM sqlite_master").fetchone()  # the schema, loaded now
    return conn
