// The environment name that every resource name derives from, checked. azd accepts `_`, `.`, `(`
// and `)` in environment names (^[a-zA-Z0-9-\(\)_\.]{1,64}$), which storage account, Key Vault and
// PostgreSQL server names cannot hold: such a name stops the deployment here with a message
// instead of failing later on the first resource that cannot be named.
// A module of its own, without resources, because checkov's Bicep parser (pycep) knows neither
// lambdas nor fail(); tests/infra/test_checkov.py scans every other file.

@description('The environment name as given (the azd environment or AZURE_ENV_NAME).')
param environmentName string

var allowedCharacters = 'abcdefghijklmnopqrstuvwxyz0123456789-'
var invalidCharacters = filter(
  map(range(0, length(environmentName)), i => toLower(substring(environmentName, i, 1))),
  c => !contains(allowedCharacters, c)
)

@description('The environment name in lower case.')
output name string = empty(invalidCharacters)
  ? toLower(environmentName)
  : fail('environmentName \'${environmentName}\' may hold only letters, digits and hyphens, because the storage account, Key Vault and PostgreSQL server names derive from it: create an environment with such a name (azd env new NAME, or AZURE_ENV_NAME=NAME).')
