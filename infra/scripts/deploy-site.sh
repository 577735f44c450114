#!/usr/bin/env bash
# The operator site: writes its config.json (write-site-config.sh) into the site folder and uploads
# the folder to the Static Web App (for `azd deploy` and by-hand deployments; the workflow uses
# Azure/static-web-apps-deploy). Without the folder (web/ not there yet, or an API-only deployment)
# it says so in one line and does nothing. The deployment token is read from Azure at run time
# with the az CLI login and never stored.
# Needs: az CLI login, Node.js (npx), and the Bicep outputs AZURE_RESOURCE_GROUP,
# AZURE_STATIC_WEB_APP_NAME, API_BASE_URL, AUTH_TENANT_ID, API_CLIENT_ID, plus SITE_CLIENT_ID.
#   usage: deploy-site.sh   (SITE_DIR overrides the folder, default web/)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
site="${SITE_DIR:-$here/../../web}"
if [ ! -d "$site" ]; then
  echo "deploy-site: no site folder ($site): operator site skipped, API-only deployment"
  exit 0
fi
"$here/require-resource-group.sh"
if [ -z "${AZURE_STATIC_WEB_APP_NAME:-}" ]; then
  echo "deploy-site: AZURE_STATIC_WEB_APP_NAME is not set (an output of the Bicep deployment)" >&2
  exit 2
fi
"$here/require-az-login.sh"
"$here/write-site-config.sh" "$site/config.json"

SWA_CLI_DEPLOYMENT_TOKEN="$(az staticwebapp secrets list --name "$AZURE_STATIC_WEB_APP_NAME" \
  --resource-group "$AZURE_RESOURCE_GROUP" --query properties.apiKey --output tsv)"
export SWA_CLI_DEPLOYMENT_TOKEN
npx --yes @azure/static-web-apps-cli@2 deploy "$site" --env production
