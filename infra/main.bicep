// Backupchecks on Azure Functions: the whole Azure footprint of one environment, in one resource
// group. Deployed by the pipeline (.github/workflows/deploy.yml), by `azd up` (azure.yaml) or by
// hand (infra/README.md). Parameters: main.bicepparam.
targetScope = 'resourceGroup'

// --- environment ---------------------------------------------------------------------------------

@description('Environment name (letters, digits, hyphens), e.g. prod or test. Names and tags derive from it.')
@minLength(2)
@maxLength(20)
param environmentName string

@description('Region of every resource except the Static Web App. Must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('Extra tags for every resource.')
param extraTags object = {}

// --- identity and Entra ID -------------------------------------------------------------------------

@description('Entra tenant of the operators and of the API app registration.')
param authTenantId string = subscription().tenantId

@description('Client id of the API app registration (infra/scripts/entra-app-registrations.sh): the token audience.')
@minLength(1)
param apiClientId string

// --- Microsoft Graph mail source -------------------------------------------------------------------

@description('UPN or id of the shared mailbox the backup reports arrive in.')
@minLength(1)
param graphMailbox string

@description('Create the webhook clientState secret in Key Vault. The pipeline sets true only when it does not exist yet; true on a later deployment rotates it.')
param createGraphClientState bool = false

@description('Value for a new clientState secret. Never set it: the default is generated inside the deployment.')
@secure()
//checkov:skip=CKV_AZURE_131:The default is no hard-coded value but newGuid(), evaluated once per deployment inside Azure Resource Manager
param graphClientStateValue string = replace('${newGuid()}${newGuid()}', '-', '')

// --- PostgreSQL ------------------------------------------------------------------------------------

@description('Object id of the PostgreSQL Entra administrator: the pipeline\'s service principal (or a group it belongs to).')
@minLength(1)
param postgresAdminObjectId string

@description('Display name of the PostgreSQL Entra administrator (service principal or group name, or user UPN); the login user name.')
@minLength(1)
param postgresAdminName string

@description('Kind of the PostgreSQL Entra administrator.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param postgresAdminType string = 'ServicePrincipal'

@description('Application database name.')
param databaseName string = 'backupchecks'

@description('PostgreSQL major version (the ones Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01 accepts).')
@allowed([
  '15'
  '16'
])
param postgresVersion string = '16'

@description('PostgreSQL compute SKU.')
param postgresSkuName string = 'Standard_B1ms'

@description('PostgreSQL compute tier (high availability needs GeneralPurpose or MemoryOptimized).')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param postgresSkuTier string = 'Burstable'

@description('PostgreSQL storage in GiB.')
@minValue(32)
param postgresStorageSizeGB int = 32

@description('Days of PostgreSQL point-in-time-restore backups.')
@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 7

@description('Geo-redundant PostgreSQL backups (fixed at server creation).')
@allowed([
  'Disabled'
  'Enabled'
])
param postgresGeoRedundantBackup string = 'Disabled'

@description('PostgreSQL high availability.')
@allowed([
  'Disabled'
  'ZoneRedundant'
  'SameZone'
])
param postgresHighAvailability string = 'Disabled'

@description('Extra PostgreSQL firewall rules for administrators: [{ name, startIpAddress, endIpAddress }].')
param postgresExtraFirewallRules array = []

// --- hosting ---------------------------------------------------------------------------------------

@description('Storage replication.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSkuName string = 'Standard_LRS'

@description('Memory per function app instance in MB.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Spread the function app over availability zones (region support needed; bills at least two always-ready instances per function group).')
param functionZoneRedundant bool = false

// --- database connections under scale-out ---------------------------------------------------------
// One arithmetic sizes the pool, the queue batch and the most instances (infra/README.md,
// "Connections under scale-out"): every instance keeps at most databasePoolSize connections, and
// Flex Consumption's maximumInstanceCount applies to each scale group (the HTTP functions as one,
// each queue-triggered function on its own), timers run on one instance each, so
//   databasePoolSize x (scaledFunctionGroups x functionMaximumInstanceCount + timerFunctions)
//     + postgresAdminConnections <= postgresUserConnections

@description('Connections PostgreSQL gives to users: max_connections less the 15 Azure reserves for itself (Standard_B1ms: 50 - 15 = 35). Change it with postgresSkuName.')
@minValue(10)
param postgresUserConnections int = 35

@description('Connections kept free for people and deployments (the database step, a psql session).')
@minValue(1)
param postgresAdminConnections int = 3

@description('Queue messages one instance takes at a time (host.json extensions.queues.batchSize, overridden by an app setting).')
@minValue(1)
@maxValue(32)
param queueBatchSize int = 3

@description('Fetch the next batch when this few messages of the last one are still running (host.json extensions.queues.newBatchThreshold).')
@minValue(0)
param queueNewBatchThreshold int = 1

@description('Region of the Static Web App (westeurope, centralus, eastus2, westus2 or eastasia).')
@allowed([
  'westeurope'
  'centralus'
  'eastus2'
  'westus2'
  'eastasia'
])
param staticSiteLocation string = 'westeurope'

@description('Static Web App plan.')
@allowed([
  'Free'
  'Standard'
])
param staticSiteSku string = 'Free'

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// --- names -----------------------------------------------------------------------------------------

// Checked there: azd allows characters in environment names that Azure resource names do not.
module environment 'modules/environment.bicep' = {
  name: 'environment'
  params: {
    environmentName: environmentName
  }
}

var env = environment.outputs.name
var token = toLower(uniqueString(subscription().id, resourceGroup().id, env))
var compactEnv = take(replace(env, '-', ''), 9)
var names = {
  functionApp: 'func-${take(env, 10)}-${token}'
  plan: 'plan-${env}-${token}'
  storage: 'st${compactEnv}${token}'
  keyVault: 'kv${compactEnv}${token}'
  postgres: 'psql-${env}-${token}'
  workspace: 'log-${env}-${token}'
  appInsights: 'appi-${env}-${token}'
  staticSite: 'stapp-${env}-${token}'
  deploymentContainer: 'app-package-${token}'
}
// Facts of the code (tests/infra counts them in functions/): the HTTP group + the two queue
// functions (mail-ingest, graph-lifecycle) scale out; three timers (catch-up, missed runs, monthly reports).
var scaledFunctionGroups = 3
var timerFunctions = 3
// Each message an instance works on holds one connection: batch + the next batch fetched early.
var databasePoolSize = queueBatchSize + queueNewBatchThreshold
var functionMaximumInstanceCount = (postgresUserConnections - postgresAdminConnections - databasePoolSize * timerFunctions) / (databasePoolSize * scaledFunctionGroups)

var tags = union(extraTags, {
  'azd-env-name': env
  application: 'backupchecks'
})

// --- resources -------------------------------------------------------------------------------------

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    deploymentContainerName: names.deploymentContainer
    skuName: storageSkuName
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    createGraphClientState: createGraphClientState
    graphClientStateValue: graphClientStateValue
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    name: names.postgres
    location: location
    tags: tags
    databaseName: databaseName
    serverVersion: postgresVersion
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    backupRetentionDays: postgresBackupRetentionDays
    geoRedundantBackup: postgresGeoRedundantBackup
    highAvailabilityMode: postgresHighAvailability
    adminObjectId: postgresAdminObjectId
    adminName: postgresAdminName
    adminType: postgresAdminType
    extraFirewallRules: postgresExtraFirewallRules
  }
}

module staticSite 'modules/staticsite.bicep' = {
  name: 'staticsite'
  params: {
    name: names.staticSite
    location: staticSiteLocation
    tags: tags
    skuName: staticSiteSku
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    appTags: union(tags, {
      'azd-service-name': 'api'
    })
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    allowedOrigin: staticSite.outputs.url
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    zoneRedundant: functionZoneRedundant
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

var apiBaseUrl = 'https://${functionApp.outputs.defaultHostName}'

module appSettings 'modules/appsettings.bicep' = {
  name: 'appsettings'
  params: {
    functionAppName: functionApp.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    storageAccountName: storage.outputs.name
    queueServiceUri: storage.outputs.queueEndpoint
    keyVaultUri: keyVault.outputs.uri
    graphClientStateUri: keyVault.outputs.graphClientStateUri
    // The role of a system-assigned identity is named after the function app.
    databaseUrl: 'postgresql+pg8000://${functionApp.outputs.name}@${postgres.outputs.fqdn}:5432/${postgres.outputs.databaseName}'
    authTenantId: authTenantId
    authAudience: apiClientId
    graphMailbox: graphMailbox
    databasePoolSize: databasePoolSize
    queueBatchSize: queueBatchSize
    queueNewBatchThreshold: queueNewBatchThreshold
    apiBaseUrl: apiBaseUrl
    siteBaseUrl: staticSite.outputs.url
  }
  dependsOn: [
    roles
  ]
}

// --- outputs (azd turns them into environment variables; the workflow reads them) -----------------

output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_PRINCIPAL_ID string = functionApp.outputs.principalId
output API_BASE_URL string = apiBaseUrl
output AZURE_STATIC_WEB_APP_NAME string = staticSite.outputs.name
output SITE_BASE_URL string = staticSite.outputs.url
output AUTH_TENANT_ID string = authTenantId
output API_CLIENT_ID string = apiClientId
output POSTGRES_SERVER_NAME string = postgres.outputs.name
output POSTGRES_HOST string = postgres.outputs.fqdn
output POSTGRES_DATABASE string = postgres.outputs.databaseName
output POSTGRES_ADMIN_NAME string = postgres.outputs.adminName
output POSTGRES_APP_ROLE string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output INGEST_QUEUE_NAME string = storage.outputs.ingestQueueName
