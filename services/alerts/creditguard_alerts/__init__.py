"""creditguard alerts service."""

SERVICE_NAME = "alerts"
