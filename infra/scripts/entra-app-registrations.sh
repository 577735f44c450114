#!/usr/bin/env bash
# Entra ID set-up for one environment, with the az CLI (run by an administrator, not by the
# pipeline: it needs Application Administrator, and Privileged Role Administrator for the Graph
# permission). Safe to run again: it updates what exists and keeps the ids of roles and scopes.
#
#   entra-app-registrations.sh register ENV_NAME
#       The API app registration ("Backupchecks API (ENV)"): App ID URI api://<client id>,
#       v2 access tokens, the delegated scope user_impersonation, and the app roles Admin,
#       Operator and Viewer (users act with every role in their token). Its enterprise app
#       requires assignment, so only users given a role get a token.
#       The site app registration ("Backupchecks site (ENV)"): a single-page application that
#       asks for api://<API client id>/user_impersonation, pre-authorized on the API (no consent
#       prompt). Prints API_CLIENT_ID and SITE_CLIENT_ID for main.bicepparam / the workflow.
#
#   entra-app-registrations.sh site-redirect SITE_CLIENT_ID SITE_URL [EXTRA_URL...]
#       The site's redirect URIs, each also with its msal redirect bridge page redirect.html (the
#       Static Web App URL from SITE_BASE_URL, plus e.g. http://localhost:7071/ for the dev host).
#
#   entra-app-registrations.sh assign-role API_CLIENT_ID PRINCIPAL_OBJECT_ID Admin|Operator|Viewer
#       Gives a user or group one of the API's app roles.
#
#   entra-app-registrations.sh grant-graph FUNCTION_APP_PRINCIPAL_ID [Mail.Read|Mail.ReadWrite]
#       Grants the function app's managed identity the Microsoft Graph application permission to
#       read the mailbox: Mail.Read (the default), or Mail.ReadWrite only when GRAPH_PROCESSED_FOLDER
#       is set (processed mail is moved there), i.e. admin consent for the identity. Run it before
#       the first code deployment: a token the app gets before the grant lacks the permission and
#       is cached for up to 24 hours. Then limit it to the one mailbox (printed below).
set -euo pipefail

GRAPH="https://graph.microsoft.com/v1.0"
GRAPH_APP_ID="00000003-0000-0000-c000-000000000000"

die() {
  echo "entra-app-registrations: $*" >&2
  exit 2
}

patch_application() { # object-id json
  az rest --method PATCH --uri "$GRAPH/applications/$1" \
    --headers "Content-Type=application/json" --body "$2" --output none
}

find_app() { # display-name -> "objectId appId" or nothing
  az ad app list --display-name "$1" --query "[0].[id, appId]" --output tsv
}

ensure_app() { # display-name -> "objectId appId"
  local found
  found="$(find_app "$1")"
  if [ -z "$found" ]; then
    az ad app create --display-name "$1" --sign-in-audience AzureADMyOrg --output none
    found="$(find_app "$1")"
  fi
  printf '%s\n' "$found"
}

ensure_service_principal() { # app-id
  if [ -z "$(az ad sp list --filter "appId eq '$1'" --query "[0].id" --output tsv)" ]; then
    az ad sp create --id "$1" --output none
  fi
  az ad sp list --filter "appId eq '$1'" --query "[0].id" --output tsv
}

cmd_register() {
  [ $# -eq 1 ] || die "usage: register ENV_NAME"
  local env_name="$1" api_object api_app site_object site_app api_sp current api_body site_body
  read -r api_object api_app <<<"$(ensure_app "Backupchecks API ($env_name)")"
  read -r site_object site_app <<<"$(ensure_app "Backupchecks site ($env_name)")"

  # The API: roles and scope keep their ids across runs (Graph refuses to change them).
  current="$(az rest --method GET --uri "$GRAPH/applications/$api_object?\$select=appRoles,api" --output json)"
  api_body="$(CURRENT="$current" SITE_APP="$site_app" python3 - <<'PY'
import json
import os
import uuid

current = json.loads(os.environ["CURRENT"])
roles_by_value = {r["value"]: r for r in current.get("appRoles", [])}
descriptions = {
    "Admin": "Change settings (Autotask), delete and purge data, run missed-run generation.",
    "Operator": "Review runs, create and link tickets, approve Inbox mail, manage overrides.",
    "Viewer": "Read runs, jobs, customers, mails and tickets.",
}
roles = [
    {
        "id": roles_by_value.get(value, {}).get("id") or str(uuid.uuid4()),
        "value": value,
        "displayName": value,
        "description": text,
        "allowedMemberTypes": ["User"],
        "isEnabled": True,
    }
    for value, text in descriptions.items()
]
scopes = (current.get("api") or {}).get("oauth2PermissionScopes") or []
scope_id = next((s["id"] for s in scopes if s["value"] == "user_impersonation"), None) or str(uuid.uuid4())
scope = {
    "id": scope_id,
    "value": "user_impersonation",
    "type": "User",
    "isEnabled": True,
    "adminConsentDisplayName": "Use Backupchecks",
    "adminConsentDescription": "Lets the Backupchecks site call the Backupchecks API as the signed-in user.",
    "userConsentDisplayName": "Use Backupchecks",
    "userConsentDescription": "Lets the Backupchecks site call the Backupchecks API as you.",
}
body = {
    "appRoles": roles,
    "api": {
        "requestedAccessTokenVersion": 2,
        "oauth2PermissionScopes": [scope],
        "preAuthorizedApplications": [
            {"appId": os.environ["SITE_APP"], "delegatedPermissionIds": [scope_id]}
        ],
    },
}
# First line: without the pre-authorization (its scope must exist first); second line: complete.
pre_authorized = body["api"].pop("preAuthorizedApplications")
print(json.dumps(body))
body["api"]["preAuthorizedApplications"] = pre_authorized
print(json.dumps(body))
PY
)"
  patch_application "$api_object" "{\"identifierUris\": [\"api://$api_app\"]}"
  patch_application "$api_object" "$(sed -n 1p <<<"$api_body")"
  api_body="$(sed -n 2p <<<"$api_body")"
  patch_application "$api_object" "$api_body"
  local api_sp
  api_sp="$(ensure_service_principal "$api_app")"
  az rest --method PATCH --uri "$GRAPH/servicePrincipals/$api_sp" \
    --headers "Content-Type=application/json" --body '{"appRoleAssignmentRequired": true}' --output none

  # The site: a SPA that asks for the API's scope.
  site_body="$(API_BODY="$api_body" API_APP="$api_app" python3 - <<'PY'
import json
import os

scope_id = json.loads(os.environ["API_BODY"])["api"]["oauth2PermissionScopes"][0]["id"]
print(json.dumps({
    "requiredResourceAccess": [
        {"resourceAppId": os.environ["API_APP"], "resourceAccess": [{"id": scope_id, "type": "Scope"}]}
    ]
}))
PY
)"
  patch_application "$site_object" "$site_body"
  ensure_service_principal "$site_app" >/dev/null

  echo "API_CLIENT_ID=$api_app"
  echo "SITE_CLIENT_ID=$site_app"
  echo "Next: deploy, then: $0 site-redirect $site_app <SITE_BASE_URL>" >&2
}

cmd_site_redirect() {
  [ $# -ge 2 ] || die "usage: site-redirect SITE_CLIENT_ID SITE_URL [EXTRA_URL...]"
  local site_app="$1" object body
  shift
  object="$(az ad app show --id "$site_app" --query id --output tsv)"
  body="$(python3 - "$@" <<'PY'
import json
import sys

uris = []
for url in sys.argv[1:]:
    url = url.rstrip("/") + "/"
    if not (url.startswith("https://") or url.startswith("http://localhost")):
        raise SystemExit(f"redirect URI must be https (or http://localhost): {url}")
    # msal-browser 5 returns through its redirect bridge page (web/redirect.html); the root stays
    # registered for a sign-in started before the bridge existed.
    uris += [url, url + "redirect.html"]
print(json.dumps({"spa": {"redirectUris": uris}}))
PY
)"
  patch_application "$object" "$body"
  echo "site redirect URIs set: $*"
}

cmd_assign_role() {
  [ $# -eq 3 ] || die "usage: assign-role API_CLIENT_ID PRINCIPAL_OBJECT_ID Admin|Operator|Viewer"
  local api_app="$1" principal="$2" role="$3" api_sp role_id
  case "$role" in Admin | Operator | Viewer) ;; *) die "role must be Admin, Operator or Viewer" ;; esac
  api_sp="$(az ad sp list --filter "appId eq '$api_app'" --query "[0].id" --output tsv)"
  [ -n "$api_sp" ] || die "no service principal for $api_app: run register first"
  role_id="$(az ad sp show --id "$api_sp" --query "appRoles[?value=='$role'].id | [0]" --output tsv)"
  az rest --method POST --uri "$GRAPH/servicePrincipals/$api_sp/appRoleAssignedTo" \
    --headers "Content-Type=application/json" \
    --body "{\"principalId\": \"$principal\", \"resourceId\": \"$api_sp\", \"appRoleId\": \"$role_id\"}" \
    --output none
  echo "assigned $role to $principal"
}

cmd_grant_graph() {
  [ $# -ge 1 ] || die "usage: grant-graph FUNCTION_APP_PRINCIPAL_ID [Mail.Read|Mail.ReadWrite]"
  local principal="$1" permission="${2:-Mail.Read}" graph_sp role_id existing identity_app
  case "$permission" in Mail.Read | Mail.ReadWrite) ;; *) die "permission must be Mail.Read or Mail.ReadWrite" ;; esac
  graph_sp="$(az ad sp show --id "$GRAPH_APP_ID" --query id --output tsv)"
  role_id="$(az ad sp show --id "$GRAPH_APP_ID" --query "appRoles[?value=='$permission'].id | [0]" --output tsv)"
  existing="$(az rest --method GET --uri "$GRAPH/servicePrincipals/$principal/appRoleAssignments" \
    --query "value[?appRoleId=='$role_id'].id | [0]" --output tsv)"
  if [ -z "$existing" ]; then
    az rest --method POST --uri "$GRAPH/servicePrincipals/$principal/appRoleAssignments" \
      --headers "Content-Type=application/json" \
      --body "{\"principalId\": \"$principal\", \"resourceId\": \"$graph_sp\", \"appRoleId\": \"$role_id\"}" \
      --output none
    echo "granted Microsoft Graph $permission (application) to the function app identity"
  else
    echo "the function app identity already has Microsoft Graph $permission"
  fi
  identity_app="$(az ad sp show --id "$principal" --query appId --output tsv)"
  cat <<EOT
Limit the permission to the backup-report mailbox (Exchange Online PowerShell, as an Exchange
administrator; the group is a mail-enabled security group whose only member is the mailbox):
  New-ApplicationAccessPolicy -AppId $identity_app -PolicyScopeGroupId <group address> \\
    -AccessRight RestrictAccess -Description "Backupchecks reads the backup-report mailbox only"
  Test-ApplicationAccessPolicy -AppId $identity_app -Identity <mailbox address>
Or Exchange's RBAC for Applications, which needs the identity as an Exchange service principal
first (and then no tenant-wide grant above: remove it once the role assignment works):
  New-ServicePrincipal -AppId $identity_app -ObjectId $principal -DisplayName "Backupchecks function app"
  New-ManagementScope -Name "Backupchecks mailbox" -RecipientRestrictionFilter "PrimarySmtpAddress -eq '<mailbox address>'"
  New-ManagementRoleAssignment -App $identity_app -Role "Application $permission" -CustomResourceScope "Backupchecks mailbox"
If the app's code already ran without the permission, the grant may take up to 24 hours to reach
it: Azure caches managed-identity tokens that long. Hence: grant before the first code deployment.
EOT
}

[ $# -ge 1 ] || die "usage: $0 register|site-redirect|assign-role|grant-graph ..."
command="$1"
shift
case "$command" in
  register) cmd_register "$@" ;;
  site-redirect) cmd_site_redirect "$@" ;;
  assign-role) cmd_assign_role "$@" ;;
  grant-graph) cmd_grant_graph "$@" ;;
  *) die "unknown command $command" ;;
esac
