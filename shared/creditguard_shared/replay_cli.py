"""``creditguard-replay``: publish a service's retained events again, for a time range, a buyer
or a topic. Through the service's admin API (``--url``, an admin API key), or straight in its
database (``--database-url``) when the service is down: its relay publishes them once it runs.
Consumers recognise the event ids they processed, so a replay is exactly once in effect."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from datetime import datetime

import httpx

from creditguard_shared.database import create_engine, create_session_factory
from creditguard_shared.outbox import OutboxRepository, ReplayFilter

EVENT_PRODUCERS = ("scoring", "limits", "alerts")
DEFAULT_PORTS = {"scoring": 8001, "limits": 8002, "alerts": 8003}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="creditguard-replay", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", required=True, choices=EVENT_PRODUCERS, help="whose outbox to replay")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", help="the service's base URL (default http://127.0.0.1:<its make run port>)")
    target.add_argument("--database-url", help="the service's database, when the service is not running")
    parser.add_argument("--api-key", default=os.environ.get("CREDITGUARD_API_KEY"), help="an admin API key (default $CREDITGUARD_API_KEY)")
    parser.add_argument("--since", type=_moment, help="events created at or after this ISO 8601 time")
    parser.add_argument("--until", type=_moment, help="events created before this ISO 8601 time")
    parser.add_argument("--buyer", help="only this buyer's events")
    parser.add_argument("--topic", help="only this topic's events")
    return parser.parse_args(argv)


async def replay_in_database(service: str, database_url: str, replay: ReplayFilter) -> dict[str, object]:
    tables = importlib.import_module(f"creditguard_{service}.database").messaging_tables
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            by_topic = await OutboxRepository(session, tables).requeue_matching(replay)
    finally:
        await engine.dispose()
    return {"requeued": sum(by_topic.values()), "by_topic": by_topic}


def replay_through_api(url: str, api_key: str, replay: ReplayFilter) -> dict[str, object]:
    body = {
        "since": replay.since.isoformat() if replay.since else None,
        "until": replay.until.isoformat() if replay.until else None,
        "buyer_id": replay.buyer_id,
        "topic": replay.topic,
    }
    response = httpx.post(
        f"{url.rstrip('/')}/admin/replay", json={k: v for k, v in body.items() if v is not None}, headers={"Authorization": f"Bearer {api_key}"}, timeout=60
    )
    if response.status_code != 200:
        raise SystemExit(f"creditguard-replay: {response.status_code} {response.text}")
    answer: dict[str, object] = response.json()
    return answer


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    replay = ReplayFilter(since=args.since, until=args.until, buyer_id=args.buyer, topic=args.topic)
    if args.database_url:
        result = asyncio.run(replay_in_database(args.service, args.database_url, replay))
    else:
        if not args.api_key:
            print("creditguard-replay: an admin API key is needed (--api-key or CREDITGUARD_API_KEY)", file=sys.stderr)
            return 2
        result = replay_through_api(args.url or f"http://127.0.0.1:{DEFAULT_PORTS[args.service]}", args.api_key, replay)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
