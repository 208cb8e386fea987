"""creditguard console: the web desk for credit managers and sales."""

SERVICE_NAME = "console"
