"""creditguard limits service."""

SERVICE_NAME = "limits"
