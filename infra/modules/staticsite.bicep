// The operator site (web/, static files, no build step). The pipeline uploads web/ with a
// deployment token it reads at run time with its Entra identity; no token is stored anywhere.

@description('Static Web App name.')
param name string

@description('Region: Static Web Apps exist in a few regions only (westeurope, centralus, eastus2, westus2, eastasia).')
param location string

@description('Tags.')
param tags object

@description('Free, or Standard for custom authentication, SLA and private endpoints.')
@allowed([
  'Free'
  'Standard'
])
param skuName string = 'Free'

resource site 'Microsoft.Web/staticSites@2023-12-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
  }
  properties: {
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

output id string = site.id
output name string = site.name
output defaultHostname string = site.properties.defaultHostname
output url string = 'https://${site.properties.defaultHostname}'
