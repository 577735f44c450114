#!/usr/bin/env bash
# Stops a deployment step at once, with one line, when the az CLI cannot act: not logged in, the
# login expired, or it is on another subscription than azd's environment (AZURE_SUBSCRIPTION_ID).
# Without it, a hook such as `azd env set X "$(script using az)"` carries on with an empty value
# (a failure inside $(...) does not stop `sh -e`) and fails much later with a confusing error.
#   usage: require-az-login.sh
set -euo pipefail

if ! az account get-access-token --output none >/dev/null 2>&1; then
  echo "The az CLI is not logged in (or its login expired): run 'az login' (Cloud Shell: 'az login --use-device-code'), then run the step again." >&2
  exit 1
fi
if [ -n "${AZURE_SUBSCRIPTION_ID:-}" ]; then
  current="$(az account show --query id --output tsv)"
  if [ "$current" != "$AZURE_SUBSCRIPTION_ID" ]; then
    echo "The az CLI is on subscription $current, the environment on $AZURE_SUBSCRIPTION_ID: run 'az account set --subscription $AZURE_SUBSCRIPTION_ID', then run the step again." >&2
    exit 1
  fi
fi
