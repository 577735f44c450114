#!/usr/bin/env bash
# Stops a deployment at once, with one line, when the subscription has not registered a resource
# provider the templates need. Registering one needs rights on the subscription, which the deploying
# identity (Contributor on the resource group only) does not have, so ARM cannot register it on the
# fly and the first Bicep step would fail with MissingSubscriptionRegistration. Microsoft.App is in
# the list although no template names it: the Flex Consumption plan runs on it.
# The one-time fix, by a subscription Owner or Contributor (infra/README.md, step 0):
#   az provider register --wait --namespace NAMESPACE
# tests/infra keeps this list equal to the namespaces of the templates' resource types.
#   usage: require-providers.sh
set -euo pipefail

providers="Microsoft.App Microsoft.DBforPostgreSQL Microsoft.Insights Microsoft.KeyVault Microsoft.OperationalInsights Microsoft.Storage Microsoft.Web"

missing=""
for namespace in $providers; do
  state="$(az provider show --namespace "$namespace" --query registrationState --output tsv)"
  if [ "$state" != "Registered" ]; then
    missing="$missing $namespace"
  fi
done
if [ -n "$missing" ]; then
  commands=""
  for namespace in $missing; do
    commands="$commands${commands:+; }az provider register --wait --namespace $namespace"
  done
  echo "The subscription has not registered the resource provider(s)${missing} (needs subscription rights, once): run '$commands', then run the step again." >&2
  exit 1
fi
