"""The cost meter: Cloudflare's four worked pricing examples, measured usage, bad input."""

from __future__ import annotations

import csv
from typing import Any

import pytest

from dolab import DurableObject, Lab, LabError, Response, WebSocketPair
from dolab.sim.pricing import DATA, MONTH_SECONDS, Usage, bill, billed_requests, load_prices, usage_of
from dolab.sim.simulate import simulate
from dolab.sim.workload import Workload

# The worked examples on Cloudflare's Durable Objects pricing page, with their inputs as stated
# there, and the page's totals (which round each billable quantity up to a whole million).
EXAMPLES = {
    "1: coordination over HTTP": (Usage(requests=1_500_000, active_seconds=1_000_000), 5.15),
    "2: 100 objects x 50 standard WebSockets, 8 h a day": (
        Usage(requests=150_000, ws_messages=72_000_000, active_seconds=86_400_000), 142.95),
    "3: 100 objects x 1 socket, a message a second": (
        Usage(requests=100, ws_messages=259_200_000, active_seconds=259_200_000), 419.30),
    "4: hibernation, 100 objects x 100 sockets, 10 ms a message": (
        Usage(requests=10_000, ws_messages=432_000_000, active_seconds=4_320_000), 20.65),
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_docs_worked_examples(name: str) -> None:
    usage, total = EXAMPLES[name]
    assert bill(usage, rounding="docs").total == pytest.approx(total, abs=1e-9)


def test_exact_rounding_prorates() -> None:
    # Example 1 exactly: 0.5 M billable requests x $0.15 / M; duration within the allowance.
    one = bill(EXAMPLES["1: coordination over HTTP"][0])
    assert one.cost("do_requests") == pytest.approx(0.075)
    assert one.cost("do_duration") == 0 and one.total == pytest.approx(5.075)
    # Example 4 exactly: 20.61 M requests -> $3.0915; 152,960 GB-s -> $1.912 (an older page says $10.00).
    four = bill(EXAMPLES["4: hibernation, 100 objects x 100 sockets, 10 ms a message"][0])
    assert four.cost("do_requests") == pytest.approx(3.0915)
    assert four.cost("do_duration") == pytest.approx(1.912)
    assert round(four.total, 2) == 10.00


def test_websocket_messages_bill_twenty_to_one_and_allowances_are_free() -> None:
    assert billed_requests(Usage(requests=7, ws_messages=40)) == 9
    free = Usage(requests=1_000_000, active_seconds=400_000 / 0.128, rows_read=25e9, rows_written=50e6,
                 stored_gb=5, worker_requests=10_000_000)
    assert bill(free).total == 5.0 and bill(free, minimum=False).total == 0.0
    over = bill(Usage(rows_written=51e6, stored_gb=6, worker_requests=11e6), minimum=False)
    assert over.cost("do_rows_written") == pytest.approx(1.00)
    assert over.cost("do_storage") == pytest.approx(0.20)
    assert over.cost("worker_requests") == pytest.approx(0.30)


def test_per_month_scales_flows_not_stored_data() -> None:
    hour = Usage(requests=10, active_seconds=2, stored_gb=1.5)
    month = hour.per_month(3600)
    assert month.requests == 10 * MONTH_SECONDS / 3600 and month.active_seconds == 2 * 720
    assert month.stored_gb == 1.5


@pytest.mark.parametrize("bad", [{"requests": -1}, {"active_seconds": float("nan")}, {"rows_read": "9"},
                                 {"stored_gb": True}])
def test_bad_usage_is_refused_by_name(bad: dict[str, Any]) -> None:
    (field, value), = bad.items()
    with pytest.raises(LabError, match=f"{field} must be a number >= 0, got {value!r}"):
        Usage(**bad)


def test_bad_rounding_and_period_are_refused() -> None:
    with pytest.raises(LabError, match="rounding must be 'exact' or 'docs', got 'up'"):
        bill(Usage(), rounding="up")
    with pytest.raises(LabError, match="got 0"):
        Usage().per_month(0)
    with pytest.raises(LabError, match="no item 'egress'"):
        bill(Usage()).cost("egress")


def test_the_price_table_has_a_source() -> None:
    prices = load_prices()
    assert prices["do_duration"].price_usd == 12.50 and prices["do_requests"].included == 1_000_000
    with (DATA / "prices.csv").open() as f:
        assert {row["item"] for row in csv.DictReader(f)} == set(prices)
    assert "prices.csv" in (DATA / "SOURCES.md").read_text()


# -- usage measured by the runtime, priced like the docs ---------------------------------------

class Room(DurableObject):
    async def fetch(self, request: Any) -> Response:
        client, server = WebSocketPair.new()
        if request.url.endswith("/standard"):
            server.accept()
            server.addEventListener("message", lambda event: None)
        else:
            self.ctx.acceptWebSocket(server)
        return Response(None, status=101, web_socket=client)

    async def webSocketMessage(self, ws: Any, message: Any) -> None:
        return None


def one_room(path: str, sockets: int, minutes: int, cpu_per_event: float = 0.0) -> Usage:
    """One object, ``sockets`` clients each sending a message a minute for ``minutes``."""
    with Lab(durable_objects={"ROOM": Room}, cpu_per_event=cpu_per_event) as lab:
        room = lab.env.ROOM.getByName("room")
        clients = [lab.run(room.fetch(f"https://chat/{path}")).webSocket for _ in range(sockets)]
        for _ in range(minutes):
            for client in clients:
                client.send("hi")
            lab.advance(60)
        for client in clients:
            client.close(1000, "bye")
        lab.advance(1)
        return usage_of(lab)


def test_example_2_measured_standard_websockets_bill_the_whole_day() -> None:
    day = one_room("standard", sockets=50, minutes=8 * 60)
    assert day.requests == 50 and day.ws_messages == 50 * 8 * 60
    assert day.active_seconds == pytest.approx(8 * 3600, rel=0.001)  # pinned by the open sockets
    month = Usage(requests=day.requests * 100 * 30, ws_messages=day.ws_messages * 100 * 30,
                  active_seconds=day.active_seconds * 100 * 30)
    assert bill(month, rounding="docs").total == pytest.approx(142.95)


def test_example_4_measured_hibernation_bills_only_the_handlers() -> None:
    hour = one_room("hibernatable", sockets=100, minutes=60, cpu_per_event=0.010)
    assert hour.ws_messages == 100 * 60
    # 6,000 messages, 100 connects and 100 closes, 10 ms each; idle time between them is free
    assert hour.active_seconds == pytest.approx((6000 + 100 + 100) * 0.010)
    scale = 100 * 24 * 30  # 100 objects, every hour of a 30-day month
    month = Usage(requests=10_000, ws_messages=hour.ws_messages * scale, active_seconds=hour.active_seconds * scale)
    assert bill(month, rounding="docs").total == pytest.approx(20.65)


def test_a_simulated_run_reports_its_usage() -> None:
    work = Workload(users=30, rate=20, duration=20)
    per_user = simulate("do-per-user", work, seed=3)
    central = simulate("external-db", work, seed=3)
    usage = usage_of(per_user)
    assert usage.worker_requests == len(per_user.requests) == per_user.usage["requests"]
    assert per_user.usage["objects"] == len({r.user for r in per_user.requests if r.op != "view"})
    assert usage.rows_written == sum(r.op != "view" for r in per_user.requests)
    assert usage.stored_gb > 0
    assert usage_of(central).requests == 0 and central.usage["db_queries"] == 2 * len(central.requests)
    # A run of 20 s scaled to a month: the flow grows, the stored data does not.
    assert usage.per_month(20).requests == pytest.approx(usage.requests * MONTH_SECONDS / 20)


class Notes(DurableObject):
    async def write(self, n: int) -> int:
        for i in range(n):
            await self.ctx.storage.put(f"note{i}", "x" * 500)
        return n


def test_stored_bytes_are_the_same_in_memory_and_cold() -> None:
    with Lab(durable_objects={"NOTES": Notes}) as lab:
        for i in range(3):
            lab.run(lab.env.NOTES.getByName(f"n{i}").write(20 * i + 1))
        hot = lab.stored_bytes()
        lab.evict_all()
        assert lab.stored_bytes() == hot > 3 * 4096  # each object's database spans pages of 4 KiB
        assert usage_of(lab).stored_gb == hot / 1e9
