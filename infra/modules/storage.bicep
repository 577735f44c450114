// Storage account of the function app: the Functions host's own state (AzureWebJobsStorage,
// identity-based), the Flex Consumption deployment container and the mail ingestion queues.
// No account keys: shared-key access is off, every client uses Entra ID (RBAC).

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Queue the webhook and the catch-up timer put message ids on.')
param ingestQueueName string = 'mail-ingest'

@description('Queue of Graph lifecycle notifications, handled off the webhook request (shared_code/mail/queue.py).')
param lifecycleQueueName string = 'graph-lifecycle'

@description('Replication of the account (the queues hold work in flight only; ZRS where the region has zones).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  //checkov:skip=CKV_AZURE_35:Flex Consumption without VNet integration has no fixed outbound addresses; the account is reachable from the internet but accepts only Entra ID tokens (shared keys off)
  //checkov:skip=CKV_AZURE_206:Replication is a parameter (skuName); the queues carry only work in flight and the deployment package is rebuilt by the pipeline
  //checkov:skip=CKV_AZURE_59:Public network access is needed by the Flex Consumption host without VNet integration; authentication is Entra ID only
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource ingestQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: ingestQueueName
}

// The Functions host moves a message here after host.json's maxDequeueCount. The app never takes
// it back from here: every failed attempt is recorded in the database (GET /api/ingestion/failures)
// and a retry puts the message id on mail-ingest again. Created up front so that it can be
// inspected in the portal from the first day.
resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${ingestQueueName}-poison'
}

// Graph lifecycle notifications (reauthorize, subscription removed, missed) wait here for the
// queue function that renews, recreates or catches up.
resource lifecycleQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: lifecycleQueueName
}

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
output ingestQueueName string = ingestQueue.name
output poisonQueueName string = poisonQueue.name
