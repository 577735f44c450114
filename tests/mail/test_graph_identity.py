"""In Azure, Graph is read with the app's managed identity: no tenant, client id or secret set."""

from __future__ import annotations

from shared_code.config import load_settings
from shared_code.mail import graph_client
from shared_code.mail.graph_client import GraphMailbox

AZURE_LIKE = {
    "DATABASE_URL": "postgresql://app@db.example.test/b",
    "AUTH_MODE": "off",
    "GRAPH_MAILBOX": "backups@example.test",
}


def test_the_mailbox_needs_no_client_id_with_the_managed_identity() -> None:
    settings = load_settings(AZURE_LIKE)
    assert GraphMailbox(settings).mailbox == "backups@example.test"
    assert type(graph_client._credential(settings)).__name__ == "ManagedIdentityCredential"


def test_a_client_secret_uses_the_app_registration() -> None:
    settings = load_settings(
        {**AZURE_LIKE, "GRAPH_CLIENT_SECRET": "s3cret", "GRAPH_TENANT_ID": "t", "GRAPH_CLIENT_ID": "c"}
    )
    assert type(graph_client._credential(settings)).__name__ == "ClientSecretCredential"
