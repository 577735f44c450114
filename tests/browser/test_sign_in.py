"""Sign-in as deployed: config.json names the Entra app, the site signs in through msal-browser
(redirect to the identity provider, back through redirect.html, the code redeemed with PKCE) and
calls the API with the token as a bearer token. The identity provider is a fake on loopback."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import Site
from tests.support.entra import AUDIENCE, TENANT_ID, FakeEntra
from tests.support.fake_signin import FakeSignIn

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def signin(entra: FakeEntra) -> Iterator[FakeSignIn]:
    fake = FakeSignIn(entra, roles=("Operator",))
    yield fake
    fake.stop()


@pytest.fixture
def deployed_site(tmp_path: Path, signin: FakeSignIn) -> Site:
    """The site as the deployment publishes it: web/ plus the config.json it writes."""
    from shared_code.devhost import DevHost

    shutil.copytree(ROOT / "web", tmp_path / "web")
    shutil.copy(ROOT / "host.json", tmp_path / "host.json")
    (tmp_path / "web" / "config.json").write_text(
        json.dumps(
            {
                "apiBaseUrl": "/api",
                "tenantId": TENANT_ID,
                "clientId": "22222222-3333-4444-5555-666666666666",
                "apiScope": f"{AUDIENCE}/user_impersonation",
                "authority": signin.authority,
                "knownAuthorities": [signin.host],
            }
        )
    )
    allow_identity_provider(tmp_path / "web" / "staticwebapp.config.json", signin.authority)
    return Site(DevHost(root=tmp_path))


def allow_identity_provider(site_config: Path, authority: str) -> None:
    """The site's Content-Security-Policy lets it reach Entra ID; a deployment signing in elsewhere
    (here: the fake identity provider) names that origin beside it."""
    origin = "/".join(authority.split("/")[:3])
    config = json.loads(site_config.read_text())
    headers = config["globalHeaders"]
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
        "https://login.microsoftonline.com", f"https://login.microsoftonline.com {origin}"
    )
    site_config.write_text(json.dumps(config))


def test_the_site_signs_in_with_entra_id_and_calls_the_api_with_the_token(
    db: Session, chromium, deployed_site: Site, signin: FakeSignIn
) -> None:
    context = chromium.new_context(ignore_https_errors=True)  # the fake identity provider's own CA
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{deployed_site.url}/#/inbox")
        expect(page.get_by_role("heading", name="Inbox")).to_be_visible(timeout=20000)
        expect(page.get_by_text("The Inbox is empty")).to_be_visible()
        page.get_by_role("button", name=re.compile("^Signed in as ")).click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_role("link", name="Audit log")).to_have_count(0)  # an operator, not an admin
        assert page.url.endswith("#/inbox")
        assert signin.tokens_issued == 1
        assert any("/oauth2/v2.0/authorize" in line for line in signin.requests)
        assert errors == []
    finally:
        context.close()
        deployed_site.wait_idle()


def test_without_a_token_the_api_refuses_and_the_site_says_so_in_words(
    db: Session, chromium, site: Site
) -> None:
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(f"{site.url}/#/run-checks")
        expect(page.get_by_role("alert").first).to_contain_text("not signed in")
    finally:
        context.close()
        site.wait_idle()
