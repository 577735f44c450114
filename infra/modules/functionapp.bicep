// The function app: a Linux Flex Consumption plan (FC1) running Python 3.11, with a
// system-assigned managed identity. The deployment package lives in a blob container that the
// platform reads with that identity. App settings are set by appsettings.bicep, after the
// identity has its roles (so Key Vault references and the host's storage work on first start).

@description('Function app name (also the name of its identity, hence of its database role).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the plan.')
param tags object

@description('Tags for the app (adds azd-service-name).')
param appTags object

@description('URL of the blob container holding the deployment package.')
param deploymentContainerUrl string

@description('The operator site origin (https://host): the only origin CORS allows.')
param allowedOrigin string

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on the on-demand instances of each scale group (main.bicep derives it from the database connections).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Spread instances over availability zones (the region must support it; keeps at least two always-ready instances per function group, billed).')
param zoneRedundant bool = false

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225:Zone redundancy is the zoneRedundant parameter, off by default: it needs a region with zones and bills at least two always-ready instances per function group
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_17:No client certificates: browsers of operators and Microsoft Graph's webhook calls do not present one
  //checkov:skip=CKV_AZURE_212:Flex Consumption scales to zero by design; always-ready instances are a cost choice, and the catch-up timer covers a cold start
  //checkov:skip=CKV_AZURE_213:The Flex Consumption plan does not support the platform health check; GET /api/health (anonymous) is there for an external probe
  //checkov:skip=CKV_AZURE_78:Flex Consumption has no FTP(S) and its deprecation table forbids siteConfig.ftpsState (ARM error 51021); FTP publishing is refused by the basicPublishingCredentialsPolicies 'ftp' resource below
  //checkov:skip=CKV_AZURE_222:The API must be public: the operator site calls it from browsers and Microsoft Graph posts change notifications to it
  name: name
  location: location
  tags: appTags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    // Only properties Flex Consumption accepts: its deprecation table (functions-app-settings.md,
    // "Flex Consumption plan deprecations") lists ftpsState, alwaysOn, linuxFxVersion and others,
    // and ARM rejects them in some regions (error 51021). FTP is off through the policy below.
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      // The platform answers the site's preflight and allows its origin. Its CORS settings cannot
      // expose response headers; the app sends Access-Control-Expose-Headers: x-correlation-id on
      // every response itself (shared_code/api/dispatch.py), so the site can quote the id.
      cors: {
        allowedOrigins: [
          allowedOrigin
        ]
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// Basic-auth publishing (FTP and the SCM site) is off: deployments use Entra ID (OIDC in CI).
// `location` as in Azure Verified Modules (web/site/basic-publishing-credentials-policy): some
// regions refuse the policy without it ("The parameter location has an invalid value", 51008).
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  location: location
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  location: location
  properties: {
    allow: false
  }
}

output id string = app.id
output name string = app.name
output principalId string = app.identity.principalId
output defaultHostName string = app.properties.defaultHostName
