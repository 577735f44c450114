"""Where a PSA's API secret is kept (the Autotask secret, the ConnectWise private key: one ``slot``
each): never in plain text, never returned.

- In Azure (``KEY_VAULT_URL`` set): a Key Vault secret written and read with the app's managed
  identity (``azure-keyvault-secrets``); the settings row keeps only the secret's versioned id.
- Elsewhere: encrypted with Fernet under ``SETTINGS_ENCRYPTION_KEY`` into the settings row.

Both are imported on first use, not at the HTTP app's cold start. A read secret is cached per
version for a few minutes, so ticket work does not ask Key Vault on every request.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any, Protocol

from shared_code.config import Settings
from shared_code.db.models import AppSettings
from shared_code.errors import Unavailable

KEY_VAULT_SECRET_NAME = "autotask-api-secret"  # noqa: S105 - the name, not the value
# Per slot: the Key Vault secret's name (the row's columns are <slot>_secret_ref / <slot>_secret_encrypted).
KEY_VAULT_NAMES = {"autotask": KEY_VAULT_SECRET_NAME, "connectwise": "connectwise-private-key"}
CACHE_SECONDS = 300
Slot = str


class SecretStore(Protocol):
    def save(self, row: AppSettings, secret: str, slot: Slot = "autotask") -> None:
        """Keeps ``secret`` and records on ``row`` how to find it again."""
        ...

    def load(self, row: AppSettings, slot: Slot = "autotask") -> str | None: ...


class SecretUnavailable(Unavailable):
    code = "secret_store_unavailable"


class FernetStore:
    def __init__(self, key: str) -> None:
        from cryptography.fernet import Fernet

        try:
            self._fernet = Fernet(key.encode())
        except ValueError:
            raise SecretUnavailable(
                "SETTINGS_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64 bytes)."
            ) from None

    def save(self, row: AppSettings, secret: str, slot: Slot = "autotask") -> None:
        setattr(row, f"{slot}_secret_encrypted", self._fernet.encrypt(secret.encode()))
        setattr(row, f"{slot}_secret_ref", None)

    def load(self, row: AppSettings, slot: Slot = "autotask") -> str | None:
        from cryptography.fernet import InvalidToken

        encrypted: bytes | None = getattr(row, f"{slot}_secret_encrypted")
        if not encrypted:
            return None
        try:
            return self._fernet.decrypt(encrypted).decode()
        except InvalidToken:
            raise SecretUnavailable(
                f"The stored {slot} secret cannot be decrypted with SETTINGS_ENCRYPTION_KEY (was the key changed?); "
                "enter the secret again."
            ) from None


class KeyVaultStore:
    def __init__(self, vault_url: str, *, ca_bundle: str | None = None) -> None:
        from azure.identity import ManagedIdentityCredential
        from azure.keyvault.secrets import SecretClient

        extra: dict[str, Any] = {"connection_verify": ca_bundle} if ca_bundle else {}
        self._client = SecretClient(vault_url, ManagedIdentityCredential(), **extra)
        self._cache: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def save(self, row: AppSettings, secret: str, slot: Slot = "autotask") -> None:
        name = KEY_VAULT_NAMES[slot]
        stored = self._call(lambda: self._client.set_secret(name, secret, content_type="text/plain"))
        ref = str(stored.id)  # versioned: a new secret is a new id
        setattr(row, f"{slot}_secret_ref", ref)
        setattr(row, f"{slot}_secret_encrypted", None)
        with self._lock:
            self._cache[ref] = (time.monotonic(), secret)

    def load(self, row: AppSettings, slot: Slot = "autotask") -> str | None:
        ref: str | None = getattr(row, f"{slot}_secret_ref")
        name = KEY_VAULT_NAMES[slot]
        if not ref:
            return None
        with self._lock:
            cached = self._cache.get(ref)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        version = ref.rstrip("/").rsplit("/", 1)[-1]
        value: str | None = self._call(lambda: self._client.get_secret(name, version)).value
        if value is not None:
            with self._lock:
                self._cache[ref] = (time.monotonic(), value)
        return value

    @staticmethod
    def _call(request: Any) -> Any:
        from azure.core.exceptions import AzureError

        try:
            return request()
        except AzureError as error:
            # The SDK's texts name the vault and the status, never the secret's value.
            raise SecretUnavailable(f"Key Vault: {type(error).__name__}: {error.message or error}") from None


def secret_store(settings: Settings) -> SecretStore:
    if settings.key_vault_url:
        return _key_vault_store(settings.key_vault_url, settings.key_vault_ca_bundle)
    if settings.settings_encryption_key is None:
        raise SecretUnavailable(
            "No place to keep the PSA secret: set KEY_VAULT_URL (Azure) or SETTINGS_ENCRYPTION_KEY (elsewhere)."
        )
    return FernetStore(settings.settings_encryption_key.get_secret_value())


@functools.cache
def _key_vault_store(vault_url: str, ca_bundle: str | None) -> KeyVaultStore:
    return KeyVaultStore(vault_url, ca_bundle=ca_bundle)
