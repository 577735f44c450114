"""local.settings.sample.json lists every setting the app reads, and its values validate."""

from __future__ import annotations

import json
from pathlib import Path

from shared_code.config import Settings, load_settings

SAMPLE = Path(__file__).resolve().parent.parent / "local.settings.sample.json"
HOST_ONLY = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsFeatureFlags"}  # read by the Functions host


def sample_values() -> dict[str, str]:
    return json.loads(SAMPLE.read_text())["Values"]


def test_the_sample_lists_exactly_the_settings_the_app_reads() -> None:
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert set(sample_values()) - HOST_ONLY == aliases


def test_the_sample_values_are_valid_as_the_environment_would_give_them(monkeypatch) -> None:
    for name, value in sample_values().items():
        monkeypatch.setenv(name, value)  # empty values count as unset
    assert load_settings().auth_mode == "off"
