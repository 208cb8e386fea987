"""Event contracts: the CloudEvents envelope, typed payloads and the topic catalogue."""

from creditguard_shared.events.catalogue import TOPICS, Topic, event_type_for, payload_model_for, topic_for
from creditguard_shared.events.envelope import EventEnvelope, new_event

__all__ = ["TOPICS", "EventEnvelope", "Topic", "event_type_for", "new_event", "payload_model_for", "topic_for"]
