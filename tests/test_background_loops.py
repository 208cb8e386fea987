"""Background loops stop when cancelled even when a Kafka client swallows the cancellation: aiokafka
can turn a cancellation that lands inside it into a connection error. A loop that went on would
outlive its service's shutdown, and the event loop closing on it would wait forever."""

from __future__ import annotations

import asyncio

from creditguard_shared.broker_watch import BrokerState, BrokerWatch
from creditguard_shared.metrics import ServiceMetrics
from creditguard_shared.settings import KafkaSettings


class ProbeThatTurnsCancellationIntoAnError(BrokerWatch):
    def __init__(self) -> None:
        super().__init__(service="limits", settings=KafkaSettings(bootstrap_servers="127.0.0.1:9"), metrics=ServiceMetrics("limits"), groups={}, interval=30)
        self.probing = asyncio.Event()

    async def probe(self) -> BrokerState:
        self.probing.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            raise ConnectionError("node not ready") from None  # what the client did with it
        return self.state


async def test_the_broker_watch_stops_when_its_probe_swallows_the_cancellation() -> None:
    watch = ProbeThatTurnsCancellationIntoAnError()
    task = asyncio.create_task(watch.run())
    await asyncio.wait_for(watch.probing.wait(), timeout=5)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done, "the watch went on after its cancellation was swallowed"
    assert task.cancelled()
