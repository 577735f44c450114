// The function app's app settings: every environment variable shared_code/config.py reads that
// Azure needs (tests/infra/test_settings_consistency.py compares the two lists), plus the
// Functions host's own identity-based storage and Application Insights settings. This resource
// replaces the whole set, so nothing else lingers. Deployed after roles.bicep.

@description('Function app name.')
param functionAppName string

@description('Application Insights component name.')
param appInsightsName string

@description('Storage account name (identity-based AzureWebJobsStorage).')
param storageAccountName string

@description('Queue endpoint of the storage account.')
param queueServiceUri string

@description('Key Vault URI (https://name.vault.azure.net/).')
param keyVaultUri string

@description('Versionless URI of the webhook clientState secret.')
param graphClientStateUri string

@description('SQLAlchemy URL of the database (user = the app identity\'s role, no password).')
param databaseUrl string

@description('Entra tenant of the operators and of the API app registration.')
param authTenantId string

@description('Client id of the API app registration (token audience).')
param authAudience string

@description('UPN or id of the monitored mailbox.')
param graphMailbox string

@description('Most database connections per instance (DATABASE_POOL_SIZE).')
param databasePoolSize int

@description('Queue messages per instance at a time (overrides host.json).')
param queueBatchSize int

@description('Next batch when this few messages are left (overrides host.json).')
param queueNewBatchThreshold int

@description('Public base URL of the API (https://host).')
param apiBaseUrl string

@description('Public URL of the operator site.')
param siteBaseUrl string

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  //checkov:skip=CKV_AZURE_13:Not applicable (App Service authentication): this resource is the app settings (name appsettings), not the site's web configuration; checkov applies its sites/config rules to it regardless
  //checkov:skip=CKV_AZURE_63:Not applicable (HTTP logging): this resource is the app settings (name appsettings), not the site's web configuration; checkov applies its sites/config rules to it regardless
  //checkov:skip=CKV_AZURE_65:Not applicable (detailed error messages): this resource is the app settings (name appsettings), not the site's web configuration; checkov applies its sites/config rules to it regardless
  //checkov:skip=CKV_AZURE_66:Not applicable (failed request tracing): this resource is the app settings (name appsettings), not the site's web configuration; checkov applies its sites/config rules to it regardless
  //checkov:skip=CKV_AZURE_80:Not applicable (.NET version): this resource is the app settings (name appsettings), not the site's web configuration; checkov applies its sites/config rules to it regardless
  //checkov:skip=CKV_AZURE_88:Not applicable (Azure Files): this resource is the app settings (name appsettings), not the site's web configuration; checkov applies its sites/config rules to it regardless
  //checkov:skip=CKV_AZURE_222:Not applicable (public network access): this resource is the app settings (name appsettings), not the site's web configuration; checkov applies its sites/config rules to it regardless
  parent: app
  name: 'appsettings'
  properties: {
    // Functions host: identity-based storage, telemetry with Entra ID authentication.
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
    // The queue trigger's concurrency per instance, from main.bicep's connection arithmetic.
    AzureFunctionsJobHost__extensions__queues__batchSize: string(queueBatchSize)
    AzureFunctionsJobHost__extensions__queues__newBatchThreshold: string(queueNewBatchThreshold)
    // The app (shared_code/config.py).
    AzureWebJobsStorage__queueServiceUri: queueServiceUri
    DATABASE_URL: databaseUrl
    DATABASE_AUTH: 'entra'
    DATABASE_TLS: 'verify'
    DATABASE_POOL_SIZE: string(databasePoolSize)
    AUTH_MODE: 'entra'
    AUTH_TENANT_ID: authTenantId
    AUTH_AUDIENCE: authAudience
    GRAPH_MAILBOX: graphMailbox
    GRAPH_CLIENT_STATE: '@Microsoft.KeyVault(SecretUri=${graphClientStateUri})'
    GRAPH_NOTIFICATION_URL: '${apiBaseUrl}/api/graph/notifications'
    GRAPH_LIFECYCLE_URL: '${apiBaseUrl}/api/graph/lifecycle'
    KEY_VAULT_URL: keyVaultUri
    SITE_BASE_URL: siteBaseUrl
  }
}
