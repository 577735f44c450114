#!/usr/bin/env bash
# Writes the operator site's config.json (read by web/ at start-up) from the deployment's values:
#   API_BASE_URL   the function app's https://host (Bicep output)
#   AUTH_TENANT_ID the Entra tenant (Bicep output)
#   SITE_CLIENT_ID the site's SPA app registration (entra-app-registrations.sh)
#   API_CLIENT_ID  the API app registration: the site asks for api://<id>/user_impersonation
# None of these is a secret.
#   usage: write-site-config.sh [OUTPUT]   (default web/config.json)
# The site folder must exist: deploy-site.sh and the workflow skip the site when it does not.
set -euo pipefail

out="${1:-web/config.json}"
if [ ! -d "$(dirname "$out")" ]; then
  echo "write-site-config: $(dirname "$out")/ does not exist (no operator site to configure)" >&2
  exit 2
fi
for name in API_BASE_URL AUTH_TENANT_ID SITE_CLIENT_ID API_CLIENT_ID; do
  if [ -z "${!name:-}" ]; then
    echo "write-site-config: $name is not set" >&2
    exit 2
  fi
done

python3 - "$out" <<'PY'
import json
import os
import sys

config = {
    "apiBaseUrl": os.environ["API_BASE_URL"].rstrip("/") + "/api",
    "tenantId": os.environ["AUTH_TENANT_ID"],
    "clientId": os.environ["SITE_CLIENT_ID"],
    "apiScope": f"api://{os.environ['API_CLIENT_ID']}/user_impersonation",
}
with open(sys.argv[1], "w", encoding="utf-8") as handle:
    json.dump(config, handle, indent=2)
    handle.write("\n")
print(f"wrote {sys.argv[1]}: {config}")
PY
