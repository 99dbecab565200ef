"""A traditional database in one home region, shared by every stateless worker (simulation layer).

It is a real SQLite database, so a worker's read-modify-write really can lose updates. It has a
capacity model: ``connections`` queries run at once, each taking ``service_ms`` of the
database's time; further queries wait in a FIFO queue. Every query is a network round trip from
the caller's region to the database's region, recorded as hops (``network``, ``queue``, ``db``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING, Any

from dolab.runtime.errors import ConfigError, SqlError
from dolab.sim.network import Network
from dolab.sim.trace import current_region, current_request

if TYPE_CHECKING:
    from dolab.runtime.lab import Lab


class ExternalDatabase:
    """``await db.query(sql, *params)`` from any worker; rows come back as tuples."""

    def __init__(self, lab: Lab, region: str, *, connections: int = 8, service_ms: float = 2.0) -> None:
        if not isinstance(lab.network, Network):
            raise ConfigError("ExternalDatabase needs a lab with a network: Lab(..., network=Network())")
        if not isinstance(connections, int) or connections < 1:
            raise ConfigError(f"connections must be an int >= 1, got {connections!r}")
        if service_ms < 0:
            raise ConfigError(f"service_ms must be >= 0, got {service_ms!r}")
        self.network = lab.network
        self.region = self.network.geo.region(region).code
        self.connections = connections
        self.service_ms = service_ms
        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._busy = 0
        self._waiting: list[asyncio.Future[None]] = []
        self.queries = 0

    @property
    def queue_depth(self) -> int:
        """Queries waiting for a free connection right now."""
        return len(self._waiting)

    async def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement on the database: a round trip plus queueing plus service time."""
        network = self.network
        src = current_region.get() or self.region
        loop = asyncio.get_running_loop()
        request = current_request.get()
        if request is not None:
            request.round_trips += 1
            request.storage_ops += 1
            request.target_region = self.region
        await network.transit(src, self.region, "network", "db query")
        arrived = loop.time()
        if self._busy >= self.connections:
            waiter = loop.create_future()
            self._waiting.append(waiter)
            network.trace.sample(arrived, "db_queue", len(self._waiting))
            await waiter  # a finishing query hands its connection straight to us
        else:
            self._busy += 1
        started = loop.time()
        if started > arrived:
            network.trace.hop("queue", arrived, started, self.region, self.region, "db")
        try:
            await asyncio.sleep(self.service_ms / 1000.0)
            try:
                rows = self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise SqlError(f"{exc} (in {sql!r})") from None
            self.queries += 1
        finally:
            if self._waiting:
                self._waiting.pop(0).set_result(None)
                network.trace.sample(loop.time(), "db_queue", len(self._waiting))
            else:
                self._busy -= 1
        network.trace.hop("db", started, loop.time(), self.region, self.region, sql.split(None, 1)[0].upper())
        await network.transit(self.region, src, "network", "db reply")
        return rows
