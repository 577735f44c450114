// Azure Database for PostgreSQL flexible server with Microsoft Entra ID authentication only.
// - Password authentication is off: nobody has a password, the app and the pipeline log in with
//   Entra tokens. The Entra administrator is a separate resource created after the server.
// - TLS is enforced on the server (require_secure_transport, TLS 1.2+) and verified by the client
//   (DATABASE_TLS=verify: pg8000 with ssl.create_default_context()).
// - Public access with the "Azure services" firewall rule: the Flex Consumption app has no fixed
//   outbound addresses without VNet integration. Extra rules (an admin's address) are a parameter.
// The app identity's database role (pgaadauth_create_principal) and its grants are made by
// infra/scripts/db_setup.py, which Bicep cannot do.

@description('Server name (lowercase letters, digits and hyphens).')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Application database name.')
param databaseName string

@description('PostgreSQL major version: ServerVersion of the 2024-08-01 API (11 to 16; 17 needs a newer API version).')
@allowed([
  '15'
  '16'
])
param serverVersion string = '16'

@description('Compute SKU, e.g. Standard_B1ms (Burstable) or Standard_D2ds_v5 (GeneralPurpose).')
param skuName string = 'Standard_B1ms'

@description('Compute tier of skuName. High availability needs GeneralPurpose or MemoryOptimized.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string = 'Burstable'

@description('Storage size in GiB (grows automatically).')
@minValue(32)
param storageSizeGB int = 32

@description('Days of point-in-time-restore backups.')
@minValue(7)
@maxValue(35)
param backupRetentionDays int = 7

@description('Geo-redundant backups (choose at creation; it cannot be changed later).')
@allowed([
  'Disabled'
  'Enabled'
])
param geoRedundantBackup string = 'Disabled'

@description('High availability: Disabled, or a standby in another zone / the same zone.')
@allowed([
  'Disabled'
  'ZoneRedundant'
  'SameZone'
])
param highAvailabilityMode string = 'Disabled'

@description('Object id of the Entra administrator (the deploying service principal, or a group it is in).')
param adminObjectId string

@description('Name of the Entra administrator: the service principal display name, the user UPN or the group name. It is the user name for logins.')
param adminName string

@description('Kind of the Entra administrator.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param adminType string = 'ServicePrincipal'

@description('Extra firewall rules, e.g. [{ name: \'admin-office\', startIpAddress: \'203.0.113.10\', endIpAddress: \'203.0.113.10\' }].')
param extraFirewallRules array = []

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: serverVersion
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: subscription().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: geoRedundantBackup
    }
    highAvailability: {
      mode: highAvailabilityMode
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// After the server: the Entra administrator (name = its object id).
resource admin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: server
  name: adminObjectId
  properties: {
    principalType: adminType
    principalName: adminName
    tenantId: subscription().tenantId
  }
}

resource requireTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: server
  name: 'require_secure_transport'
  properties: {
    value: 'on'
    source: 'user-override'
  }
  dependsOn: [
    admin
  ]
}

resource minTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = {
  parent: server
  name: 'ssl_min_protocol_version'
  properties: {
    value: 'TLSv1.2'
    source: 'user-override'
  }
  dependsOn: [
    requireTls
  ]
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    minTls
  ]
}

// 0.0.0.0 - 0.0.0.0 is Azure's "allow Azure services" rule (Flex Consumption outbound addresses).
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    database
  ]
}

@batchSize(1)
resource extraRules 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = [for rule in extraFirewallRules: {
  parent: server
  name: rule.name
  properties: {
    startIpAddress: rule.startIpAddress
    endIpAddress: rule.endIpAddress
  }
  dependsOn: [
    allowAzureServices
  ]
}]

output id string = server.id
output name string = server.name
output fqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
output adminName string = admin.properties.principalName
