"""Dev-only code (the local Functions host, the embedded PostgreSQL, the sample morning) is not deployed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "scripts" / "build_package.py"
DEV_ONLY = ("shared_code/devhost.py", "shared_code/devdb.py", "shared_code/sample_morning.py")


def test_the_dev_host_the_embedded_database_and_the_sample_morning_stay_out_of_the_package() -> None:
    spec = importlib.util.spec_from_file_location("build_package", SCRIPT)
    assert spec is not None and spec.loader is not None
    build_package = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_package)

    files = build_package.package_files()

    assert not [name for name in DEV_ONLY if name in files]
    assert {"function_app.py", "shared_code/cli.py", "shared_code/config.py"} <= set(files)
