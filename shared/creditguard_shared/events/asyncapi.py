"""Generates the AsyncAPI 3.0 document from the topic catalogue (``python -m creditguard_shared.events.asyncapi``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from creditguard_shared.events.catalogue import TOPICS
from creditguard_shared.events.envelope import EventEnvelope


def _message_name(event_type: str) -> str:
    return event_type.removeprefix("creditguard.").replace(".", "_").replace("-", "_")


def build_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventEnvelope": EventEnvelope.model_json_schema()}
    for topic in TOPICS:
        name = _message_name(topic.event_type)
        payload_schema = topic.payload.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(payload_schema.pop("$defs", {}))
        schemas[topic.payload.__name__] = payload_schema
        messages[name] = {
            "name": topic.event_type,
            "title": topic.payload.__name__,
            "summary": topic.description,
            "contentType": "application/cloudevents+json",
            "bindings": {"kafka": {"key": {"type": "string", "description": "buyer id (= CloudEvents subject)"}}},
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEventEnvelope"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": topic.event_type},
                            "data": {"$ref": f"#/components/schemas/{topic.payload.__name__}"},
                        },
                    },
                ]
            },
        }
        channels[topic.name] = {
            "address": topic.name,
            "description": f"{topic.description} Producers: {', '.join(topic.producers)}; consumers: {', '.join(topic.consumers)}. "
            f"Messages that cannot be processed go to `{topic.dead_letter_topic}`.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {"kafka": {"partitions": topic.partitions}},
        }
        operations[f"publish_{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "summary": f"Published by {', '.join(topic.producers)}",
        }
        operations[f"consume_{name}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{topic.name}"},
            "summary": f"Consumed by {', '.join(topic.consumers)}",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "creditguard events",
            "version": "1.0.0",
            "description": "Every topic carries CloudEvents 1.0 in structured mode, keyed by buyer id so a buyer's events stay in order.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/asyncapi.json")
    args = parser.parse_args(argv)
    Path(args.out).write_text(render())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
