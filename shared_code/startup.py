"""What the app does once per process before serving: validate settings, set up logging."""

from __future__ import annotations

import logging

from shared_code.config import Settings, get_settings
from shared_code.correlation import install_log_correlation

# Libraries that log every HTTP request at INFO: their failures surface through our own logs.
CHATTY_LOGGERS = ("httpx", "httpcore", "azure.core.pipeline.policies.http_logging_policy", "azure.identity")


def start(*, json_logs: bool = False) -> Settings:
    """Validate every setting (``ConfigError`` names the bad one) and put correlation ids on logs."""
    settings = get_settings()
    install_log_correlation(settings.log_level, json_lines=json_logs)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return settings
