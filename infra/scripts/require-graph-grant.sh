#!/usr/bin/env bash
# The function app's code is deployed only after its identity holds the Microsoft Graph mail
# permission. The code's catch-up timer asks Graph for a token within minutes of starting, and
# Azure caches a managed-identity token for up to 24 hours: a token issued before the grant keeps
# getting 403 (and no subscription) for hours after it. So the first deployment is two passes:
# infrastructure and database, then the grant (an Entra administrator, infra/README.md step 5),
# then the code. GRAPH_PERMISSION_GRANTED=true (azd env set / repository variable) records the grant.
#   usage: require-graph-grant.sh   (exit 1 with one line while the grant is not recorded)
set -euo pipefail

if [ "${GRAPH_PERMISSION_GRANTED:-}" != "true" ]; then
  echo "The function app's code waits for its Microsoft Graph mail permission: run 'infra/scripts/entra-app-registrations.sh grant-graph <AZURE_FUNCTION_APP_PRINCIPAL_ID> Mail.Read' (an Entra administrator; Mail.ReadWrite with GRAPH_PROCESSED_FOLDER), then set GRAPH_PERMISSION_GRANTED=true (azd env set, or the repository variable) and deploy again." >&2
  exit 1
fi
