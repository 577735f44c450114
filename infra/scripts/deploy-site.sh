#!/usr/bin/env bash
# Uploads web/ (with the config.json write-site-config.sh wrote) to the Static Web App, for
# `azd deploy` and by-hand deployments (the workflow uses Azure/static-web-apps-deploy). The
# deployment token is read from Azure at run time with the az CLI login and never stored.
# Needs: az CLI login, Node.js (npx), AZURE_RESOURCE_GROUP and AZURE_STATIC_WEB_APP_NAME.
set -euo pipefail

for name in AZURE_RESOURCE_GROUP AZURE_STATIC_WEB_APP_NAME; do
  if [ -z "${!name:-}" ]; then
    echo "deploy-site: $name is not set (an output of the Bicep deployment)" >&2
    exit 2
  fi
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

SWA_CLI_DEPLOYMENT_TOKEN="$(az staticwebapp secrets list --name "$AZURE_STATIC_WEB_APP_NAME" \
  --resource-group "$AZURE_RESOURCE_GROUP" --query properties.apiKey --output tsv)"
export SWA_CLI_DEPLOYMENT_TOKEN
npx --yes @azure/static-web-apps-cli@2 deploy "$root/web" --env production
