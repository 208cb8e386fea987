"""``creditguard-limits migrate | serve``."""

from creditguard_limits.settings import Settings
from creditguard_shared.service_cli import run_service_cli


def main(argv: list[str] | None = None) -> int:
    return run_service_cli(argv, settings_factory=Settings, app_path="creditguard_limits.app:create_app", package="creditguard_limits")


if __name__ == "__main__":
    raise SystemExit(main())
