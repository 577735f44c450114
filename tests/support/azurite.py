"""Azurite's queue service (the `azurite` npm package, installed by `npm ci`) on a loopback port.

Started on first use by the tests that talk to Azure Storage themselves; the port is chosen when
the session's settings are written, so the app's connection string names it from the start.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "node_modules" / ".bin" / "azurite-queue"
ACCOUNT = "devstoreaccount1"
# Azurite's published development key (not a secret: every Azurite install uses it).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Azurite:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.workspace: Path | None = None
        self.log: Path | None = None

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"QueueEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};"
        )

    def start(self) -> None:
        if self.process is not None:
            return
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is missing: run `npm ci` (the Makefile's install step) first")
        self.workspace = Path(tempfile.mkdtemp(prefix="bc-azurite-"))
        self.log = self.workspace / "azurite.log"
        self.process = subprocess.Popen(
            [
                str(BINARY),
                "--queueHost",
                "127.0.0.1",
                "--queuePort",
                str(self.port),
                "--location",
                str(self.workspace),
                "--skipApiVersionCheck",
                "--silent",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
        )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"azurite exited: {self.log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"azurite did not listen on port {self.port} within {START_TIMEOUT_SECONDS}s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:  # it waits for idle keep-alive connections to close
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        if self.workspace is not None:
            shutil.rmtree(self.workspace, ignore_errors=True)
