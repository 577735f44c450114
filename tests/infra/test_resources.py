"""What checkov has no rules for, checked over the parsed templates: the PostgreSQL flexible server
(Entra only, TLS, network), least-privilege role assignments, the Static Web App and CORS, storage
without keys, Application Insights by connection string, the Flex Consumption app and Key Vault.
"""

from __future__ import annotations

import re

import pytest

from tests.infra.bicep_model import INFRA, MAIN, Expr, Interp, Resource, Template, bicep_files, template


def t(name: str) -> Template:
    return template(INFRA / "modules" / name)


def main() -> Template:
    return template(MAIN)


def only(tpl: Template, type_: str) -> Resource:
    found = tpl.resources_of_type(type_)
    assert len(found) == 1, f"expected one {type_} in {tpl.path.name}, found {len(found)}"
    return found[0]


def everywhere(type_: str) -> list[tuple[Template, Resource]]:
    return [(template(p), r) for p in bicep_files() for r in template(p).resources_of_type(type_)]


# --- PostgreSQL flexible server -------------------------------------------------------------------------

PG = "Microsoft.DBforPostgreSQL/flexibleServers"
AZURE_SERVICES = "0.0.0.0"  # noqa: S104 - Azure's marker for "Azure services", not a bind address


def test_postgres_entra_only() -> None:
    server = only(t("postgres.bicep"), PG)
    auth = server.properties["authConfig"]
    assert auth["passwordAuth"] == "Disabled"
    assert auth["activeDirectoryAuth"] == "Enabled"
    assert "administratorLogin" not in server.properties
    assert "administratorLoginPassword" not in server.properties


def test_postgres_entra_admin_is_a_separate_resource_after_the_server() -> None:
    admin = only(t("postgres.bicep"), f"{PG}/administrators")
    assert admin.body["parent"] == Expr("server")
    assert admin.body["name"] == Expr("adminObjectId")
    assert set(admin.properties) == {"principalType", "principalName", "tenantId"}
    # main.bicep feeds it from parameters (the pipeline's principal), never a literal.
    params = main().module("postgres").params
    assert isinstance(params["adminObjectId"], Expr)
    assert isinstance(params["adminName"], Expr)


def _configurations() -> dict[str, str]:
    return {
        r.body["name"]: r.properties["value"]
        for r in t("postgres.bicep").resources_of_type(f"{PG}/configurations")
    }


def test_postgres_enforces_tls() -> None:
    config = _configurations()
    assert config["require_secure_transport"] == "on"
    assert config["ssl_min_protocol_version"] in {"TLSv1.2", "TLSv1.3"}


def test_the_app_verifies_the_server_certificate() -> None:
    settings = t("appsettings.bicep").resource("appSettings").properties
    assert settings["DATABASE_TLS"] == "verify"
    assert settings["DATABASE_AUTH"] == "entra"


def test_database_url_names_the_app_identity_without_password() -> None:
    url = main().module("appSettings").params["databaseUrl"]
    assert isinstance(url, Interp)
    match = re.fullmatch(
        r"'postgresql\+pg8000://\$\{(?P<user>[^}]+)\}@\$\{(?P<host>[^}]+)\}:5432/\$\{(?P<db>[^}]+)\}'",
        url.text,
    )
    assert match, url.text
    # The role of a system-assigned identity carries the function app's name.
    assert match["user"] == "functionApp.outputs.name"
    assert match["host"] == "postgres.outputs.fqdn"
    assert match["db"] == "postgres.outputs.databaseName"
    assert main().outputs["POSTGRES_APP_ROLE"] == Expr("functionApp.outputs.name")


def test_postgres_network_is_as_intended() -> None:
    """Public endpoint, reachable from Azure services only (Flex Consumption has no fixed outbound
    addresses), plus parameter-driven admin ranges; never the whole internet."""
    tpl = t("postgres.bicep")
    assert only(tpl, PG).properties["network"] == {"publicNetworkAccess": "Enabled"}
    rules = tpl.resources_of_type(f"{PG}/firewallRules")
    literal = [r for r in rules if r.loop is None]
    assert [
        (r.body["name"], r.properties["startIpAddress"], r.properties["endIpAddress"]) for r in literal
    ] == [("AllowAllAzureServicesAndResourcesWithinAzureIps", AZURE_SERVICES, AZURE_SERVICES)]
    looped = [r for r in rules if r.loop is not None]
    assert len(looped) == 1 and looped[0].loop.refers_to("extraFirewallRules")
    assert main().params["postgresExtraFirewallRules"].default == []
    for path in bicep_files():
        assert "255.255.255.255" not in path.read_text(), path.name


def test_postgres_backup_and_high_availability_are_parameters() -> None:
    server = only(t("postgres.bicep"), PG)
    assert server.properties["backup"]["backupRetentionDays"] == Expr("backupRetentionDays")
    assert server.properties["backup"]["geoRedundantBackup"] == Expr("geoRedundantBackup")
    assert server.properties["highAvailability"]["mode"] == Expr("highAvailabilityMode")
    params = main().params
    assert params["postgresHighAvailability"].decorators["allowed"] == [
        "Disabled",
        "ZoneRedundant",
        "SameZone",
    ]
    assert params["postgresBackupRetentionDays"].decorators["minValue"] == 7
    assert params["postgresBackupRetentionDays"].decorators["maxValue"] == 35


def test_postgres_children_are_serialised() -> None:
    """The flexible server refuses concurrent changes: each child waits for the previous one."""
    tpl = t("postgres.bicep")
    children = [r for r in tpl.resources if r.type.startswith(f"{PG}/") and r.type != f"{PG}/administrators"]
    for child in children:
        assert child.body.get("dependsOn"), f"{child.symbol} does not wait for its predecessor"


# --- role assignments -----------------------------------------------------------------------------------

ROLES = {
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7": "Key Vault Secrets Officer",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
}
EXPECTED_ASSIGNMENTS = {
    ("Storage Blob Data Owner", "Microsoft.Storage/storageAccounts"),
    ("Storage Queue Data Contributor", "Microsoft.Storage/storageAccounts"),
    ("Key Vault Secrets Officer", "Microsoft.KeyVault/vaults"),
    ("Monitoring Metrics Publisher", "Microsoft.Insights/components"),
}
PRIVILEGED = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
    "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",  # User Access Administrator
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168",  # Role Based Access Control Administrator
    "00482a5a-887f-4fb3-b363-3b7fe8e74483",  # Key Vault Administrator
    "17d1049b-9a84-46fb-8f53-869881c3d3ab",  # Storage Account Contributor
}


def _role_assignments() -> list[tuple[str, str, Resource, Template]]:
    found = []
    for tpl, assignment in everywhere("Microsoft.Authorization/roleAssignments"):
        definition = assignment.properties["roleDefinitionId"]
        assert isinstance(definition, Expr)
        match = re.search(r"roleIds\.(\w+)", definition.text)
        assert match, f"{assignment.symbol}: role definition not taken from the roleIds table"
        role_id = tpl.variables["roleIds"][match.group(1)]
        scope = assignment.body.get("scope")
        assert isinstance(scope, Expr), (
            f"{assignment.symbol}: no resource scope (it would apply to the resource group)"
        )
        scoped = tpl.resource(scope.text)
        found.append((role_id, scoped.type, assignment, tpl))
    return found


def test_role_definitions_used_are_exactly_the_expected_set() -> None:
    used = {role_id for role_id, *_ in _role_assignments()}
    assert used == set(ROLES)
    assert used.isdisjoint(PRIVILEGED)


def test_each_role_is_assigned_on_the_one_resource_it_needs() -> None:
    pairs = [(ROLES[role_id], scope_type) for role_id, scope_type, *_ in _role_assignments()]
    assert sorted(pairs) == sorted(EXPECTED_ASSIGNMENTS), "one assignment per role, on the resource it needs"


def test_role_assignments_go_to_the_function_app_identity() -> None:
    for _role, _scope, assignment, tpl in _role_assignments():
        assert assignment.properties["principalId"] == Expr("principalId")
        assert assignment.properties["principalType"] == "ServicePrincipal"
        assert assignment.body["name"].text.startswith("guid("), (
            "deterministic names keep redeployments idempotent"
        )
        assert tpl.path.name == "roles.bicep"
    assert main().module("roles").params["principalId"] == Expr("functionApp.outputs.principalId")


def test_no_other_authorization_resources() -> None:
    for path in bicep_files():
        for resource in template(path).resources:
            if resource.type.startswith("Microsoft.Authorization/"):
                assert resource.type == "Microsoft.Authorization/roleAssignments", resource.type
            assert resource.type != "Microsoft.KeyVault/vaults/accessPolicies"


def test_app_settings_wait_for_the_roles() -> None:
    """Key Vault references and the host's storage work on the first start."""
    assert Expr("roles") in main().module("appSettings").body["dependsOn"]


# --- storage ---------------------------------------------------------------------------------------------


def test_storage_has_no_shared_keys_and_no_public_blobs() -> None:
    account = only(t("storage.bicep"), "Microsoft.Storage/storageAccounts")
    props = account.properties
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False
    assert props["defaultToOAuthAuthentication"] is True
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["minimumTlsVersion"] == "TLS1_2"
    for container in t("storage.bicep").resources_of_type(
        "Microsoft.Storage/storageAccounts/blobServices/containers"
    ):
        assert container.properties["publicAccess"] == "None"


def test_queues_match_the_app() -> None:
    """The ingestion queue, its poison queue and the lifecycle queue, named as the app names them."""
    from shared_code.mail.queue import GRAPH_EVENTS_QUEUE, INGEST_QUEUE

    tpl = t("storage.bicep")
    assert tpl.params["ingestQueueName"].default == INGEST_QUEUE
    assert tpl.params["lifecycleQueueName"].default == GRAPH_EVENTS_QUEUE
    assert not {"ingestQueueName", "lifecycleQueueName"} & set(main().module("storage").params)
    queues = {
        r.symbol: r.body["name"]
        for r in tpl.resources_of_type("Microsoft.Storage/storageAccounts/queueServices/queues")
    }
    assert queues["ingestQueue"] == Expr("ingestQueueName")
    assert queues["poisonQueue"] == Interp("'${ingestQueueName}-poison'")
    assert queues["lifecycleQueue"] == Expr("lifecycleQueueName")


def test_functions_host_uses_identity_based_storage() -> None:
    settings = t("appsettings.bicep").resource("appSettings").properties
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert isinstance(settings["AzureWebJobsStorage__accountName"], Expr)
    assert "AzureWebJobsStorage" not in settings, "no connection string: shared keys are off"


# --- function app -----------------------------------------------------------------------------------------


def test_function_app_on_flex_consumption_python_311() -> None:
    tpl = t("functionapp.bicep")
    plan = only(tpl, "Microsoft.Web/serverfarms")
    assert plan.body["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan.properties["reserved"] is True
    app = only(tpl, "Microsoft.Web/sites")
    assert app.body["kind"] == "functionapp,linux"
    assert app.body["identity"] == {"type": "SystemAssigned"}
    config = app.properties["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {"type": "SystemAssignedIdentity"}


def test_function_app_transport_and_publishing() -> None:
    tpl = t("functionapp.bicep")
    app = only(tpl, "Microsoft.Web/sites")
    assert app.properties["httpsOnly"] is True
    site = app.properties["siteConfig"]
    assert site["minTlsVersion"] == "1.2"
    policies = {
        r.body["name"]: r.properties["allow"]
        for r in tpl.resources_of_type("Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    }
    assert policies == {"ftp": False, "scm": False}


def test_flex_consumption_rejects_these_settings() -> None:
    """Flex Consumption sets the runtime in functionAppConfig and refuses these app settings."""
    settings = t("appsettings.bicep").resource("appSettings").properties
    for name in (
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
        "WEBSITE_CONTENTSHARE",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
    ):
        assert name not in settings


# --- CORS and the Static Web App ----------------------------------------------------------------------------


def test_static_web_app_for_the_site() -> None:
    site = only(t("staticsite.bicep"), "Microsoft.Web/staticSites")
    assert site.body["sku"] == {"name": Expr("skuName"), "tier": Expr("skuName")}
    assert t("staticsite.bicep").params["skuName"].decorators["allowed"] == ["Free", "Standard"]
    assert t("staticsite.bicep").outputs["url"] == Interp("'https://${site.properties.defaultHostname}'")


def test_cors_allows_only_the_site_origin() -> None:
    app = only(t("functionapp.bicep"), "Microsoft.Web/sites")
    cors = app.properties["siteConfig"]["cors"]
    assert cors["allowedOrigins"] == [Expr("allowedOrigin")]
    assert cors["supportCredentials"] is False
    assert main().module("functionApp").params["allowedOrigin"] == Expr("staticSite.outputs.url")
    for path in bicep_files():
        assert "'*'" not in path.read_text(), f"{path.name}: wildcard"


def test_the_site_base_url_is_the_static_web_app() -> None:
    assert main().module("appSettings").params["siteBaseUrl"] == Expr("staticSite.outputs.url")


# --- monitoring -------------------------------------------------------------------------------------------


def test_application_insights_by_connection_string_only() -> None:
    settings = t("appsettings.bicep").resource("appSettings").properties
    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == Expr(
        "appInsights.properties.ConnectionString"
    )
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD"
    assert "APPINSIGHTS_INSTRUMENTATIONKEY" not in settings
    for path in bicep_files():
        assert "InstrumentationKey" not in path.read_text(), path.name
    components = only(t("monitoring.bicep"), "Microsoft.Insights/components")
    assert components.properties["DisableLocalAuth"] is True
    assert components.properties["WorkspaceResourceId"] == Expr("workspace.id")


# --- Key Vault ----------------------------------------------------------------------------------------------


def test_key_vault_rbac_with_recovery() -> None:
    vault = only(t("keyvault.bicep"), "Microsoft.KeyVault/vaults")
    props = vault.properties
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["enablePurgeProtection"] is True
    assert "accessPolicies" not in props


def test_graph_client_state_is_a_key_vault_reference() -> None:
    settings = t("appsettings.bicep").resource("appSettings").properties
    assert settings["GRAPH_CLIENT_STATE"] == Interp("'@Microsoft.KeyVault(SecretUri=${graphClientStateUri})'")
    assert t("keyvault.bicep").outputs["graphClientStateUri"] == Interp(
        "'${vault.properties.vaultUri}secrets/${graphClientStateSecretName}'"
    ), "versionless: the app follows rotations"


def test_graph_client_state_is_created_once() -> None:
    kv = t("keyvault.bicep")
    module = kv.module("graphClientState")
    assert module.condition is not None and module.condition.refers_to("createGraphClientState")
    assert main().params["createGraphClientState"].default is False


# --- names, tags, outputs -------------------------------------------------------------------------------------


def test_names_derive_from_the_environment_with_unique_string() -> None:
    names = main().variables["names"]
    token = main().variables["token"]
    assert isinstance(token, Expr) and "uniqueString(" in token.text and token.refers_to("env")
    for kind, value in names.items():
        assert isinstance(value, Interp) and "${token}" in value.text, kind


@pytest.mark.parametrize("kind", ["storage", "keyVault"])
def test_short_names_fit(kind: str) -> None:
    """Storage and Key Vault names are at most 24 characters: prefix + 9 + 13 (uniqueString)."""
    value = main().variables["names"][kind].text
    prefix = value.strip("'").split("$", 1)[0]
    assert len(prefix) + 9 + 13 <= 24
    assert main().variables["compactEnv"].text == "take(replace(env, '-', ''), 9)"


def test_every_resource_is_tagged() -> None:
    untagged_types = {
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Web/sites/config",
        "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
    }
    for path in bicep_files():
        for resource in template(path).resources:
            if resource.existing or resource.type in untagged_types or resource.type.count("/") > 1:
                continue
            assert "tags" in resource.body, f"{path.name}: {resource.symbol} has no tags"
    assert main().variables["tags"].refers_to("extraTags")


def test_outputs_for_the_pipeline() -> None:
    needed = {
        "AZURE_FUNCTION_APP_NAME",
        "AZURE_FUNCTION_APP_PRINCIPAL_ID",
        "API_BASE_URL",
        "AZURE_STATIC_WEB_APP_NAME",
        "SITE_BASE_URL",
        "AUTH_TENANT_ID",
        "API_CLIENT_ID",
        "POSTGRES_HOST",
        "POSTGRES_DATABASE",
        "POSTGRES_ADMIN_NAME",
        "POSTGRES_APP_ROLE",
        "AZURE_KEY_VAULT_NAME",
        "AZURE_RESOURCE_GROUP",
    }
    assert needed <= set(main().outputs)
