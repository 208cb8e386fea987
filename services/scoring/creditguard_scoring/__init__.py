"""creditguard scoring service."""

SERVICE_NAME = "scoring"
