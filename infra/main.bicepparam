// Parameters of one environment. Values that differ per environment or tenant come from
// environment variables (set by azd, by the workflow from the repository's variables, or by hand:
// infra/README.md). No secret belongs here: the only secret parameter (graphClientStateValue) is
// generated inside the deployment.
using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'backupchecks')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')

// Entra ID (infra/scripts/entra-app-registrations.sh prints these).
param apiClientId = readEnvironmentVariable('API_CLIENT_ID', '')

// The shared mailbox the backup reports arrive in.
param graphMailbox = readEnvironmentVariable('GRAPH_MAILBOX', '')

// true only on the first deployment (infra/scripts/needs-graph-client-state.sh decides).
param createGraphClientState = bool(readEnvironmentVariable('CREATE_GRAPH_CLIENT_STATE', 'false'))

// The PostgreSQL Entra administrator: the pipeline's service principal (or a group it is in).
param postgresAdminObjectId = readEnvironmentVariable('POSTGRES_ADMIN_OBJECT_ID', '')
param postgresAdminName = readEnvironmentVariable('POSTGRES_ADMIN_NAME', '')
param postgresAdminType = readEnvironmentVariable('POSTGRES_ADMIN_TYPE', 'ServicePrincipal')

// Sizing and resilience: the defaults are the smallest that work. For production consider
// GeneralPurpose + ZoneRedundant high availability, 35 days of backups and geo-redundant backups.
param postgresSkuName = 'Standard_B1ms'
param postgresSkuTier = 'Burstable'
param postgresStorageSizeGB = 32
param postgresBackupRetentionDays = 7
param postgresGeoRedundantBackup = 'Disabled'
param postgresHighAvailability = 'Disabled'

param staticSiteLocation = 'westeurope'
param staticSiteSku = 'Free'
// The database connection arithmetic (infra/README.md): B1ms gives 35 user connections; a larger
// SKU, more (set postgresUserConnections with it). The most instances follow from these.
param postgresUserConnections = 35
param postgresAdminConnections = 3
param queueBatchSize = 3
param queueNewBatchThreshold = 1
param functionZoneRedundant = false
