// The webhook clientState secret (Graph echoes it in every change notification). keyvault.bicep
// deploys this only on the first deployment (or to rotate): its value is generated inside the
// deployment and never leaves Azure except to the app through a Key Vault reference.

@description('Key Vault name.')
param vaultName string

@description('Secret name.')
param secretName string

@description('Secret value.')
@secure()
param value string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  //checkov:skip=CKV_AZURE_41:The webhook clientState must not expire under a live Graph subscription; it is rotated by redeploying with createGraphClientState=true (infra/README.md)
  parent: vault
  name: secretName
  properties: {
    value: value
    contentType: 'text/plain'
    attributes: {
      enabled: true
    }
  }
}
