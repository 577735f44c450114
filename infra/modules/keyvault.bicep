// Key Vault in RBAC mode for the app's secrets:
// - graph-client-state: the shared secret Graph echoes in every change notification (webhook
//   trust), referenced from the GRAPH_CLIENT_STATE app setting. Generated inside the deployment
//   (newGuid) on the first deployment only, so no value passes through the pipeline or a file.
// - the Autotask API secret, written at runtime by the settings API with the app's identity.
// No Graph client secret: in Azure the app reads mail with its managed identity (infra/README.md).

@description('Key Vault name (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Create (or rotate) the graph-client-state secret. The pipeline sets this only when the secret does not exist yet.')
param createGraphClientState bool = false

@description('Value of graph-client-state when it is created. Leave the default: it is generated in the deployment and never written anywhere else.')
@secure()
param graphClientStateValue string

@description('Name of the webhook clientState secret.')
param graphClientStateSecretName string = 'graph-client-state'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  //checkov:skip=CKV_AZURE_189:Public network access stays on: Flex Consumption without VNet integration has no fixed outbound addresses and App Service resolves Key Vault references over them; every request needs an Entra ID token with an RBAC role
  //checkov:skip=CKV_AZURE_109:Flex Consumption without VNet integration has no fixed outbound addresses, and App Service resolves Key Vault references from them; access is RBAC-only (Entra ID), no access policies
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// Conditional at module level so that the secret's own properties stay visible to the scan.
module graphClientState 'clientstate.bicep' = if (createGraphClientState) {
  name: 'graph-client-state'
  params: {
    vaultName: vault.name
    secretName: graphClientStateSecretName
    value: graphClientStateValue
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
output graphClientStateUri string = '${vault.properties.vaultUri}secrets/${graphClientStateSecretName}'
