"""What the app does once per process before serving: validate settings, set up logging."""

from __future__ import annotations

from shared_code.api.correlation import install_log_correlation
from shared_code.config import Settings, get_settings


def start(*, json_logs: bool = False) -> Settings:
    """Validate every setting (``ConfigError`` names the bad one) and put correlation ids on logs."""
    settings = get_settings()
    install_log_correlation(settings.log_level, json_lines=json_logs)
    return settings
