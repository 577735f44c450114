// Entra ID sign-in with msal-browser (vendored, self-contained build), only when config.json
// names a client id: the deployment writes it; locally it is absent and the API runs with auth off.
// MSAL v5 returns from the identity provider to redirect.html (its redirect bridge), which hands the
// response back here; handleRedirectPromise then completes the sign-in.

let client = null;
let scopes = [];

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`Could not load ${src}`));
    document.head.appendChild(script);
  });
}

export function authEnabled(config) {
  return Boolean(config && config.clientId && config.tenantId);
}

// Signs the user in (a redirect to Entra ID when there is no account yet). Resolves to the account,
// or to null while the browser is being sent to the sign-in page.
export async function signIn(config) {
  await loadScript(new URL("../vendor/msal-browser.min.js", import.meta.url).href);
  const { PublicClientApplication } = window.msal;
  const authority = config.authority || `https://login.microsoftonline.com/${config.tenantId}`;
  scopes = [config.apiScope].filter(Boolean);
  client = new PublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority,
      knownAuthorities: config.knownAuthorities || [],
      redirectUri: new URL(config.redirectPath || "redirect.html", document.baseURI).href,
      postLogoutRedirectUri: new URL("./", document.baseURI).href,
    },
    cache: { cacheLocation: "sessionStorage" },
  });
  await client.initialize();
  const result = await client.handleRedirectPromise();
  const account = (result && result.account) || client.getAllAccounts()[0] || null;
  if (!account) {
    await client.loginRedirect({ scopes, redirectStartPage: location.href });
    return null;
  }
  client.setActiveAccount(account);
  return account;
}

export async function accessToken() {
  if (!client) return null;
  try {
    const result = await client.acquireTokenSilent({ scopes, account: client.getActiveAccount() });
    return result.accessToken;
  } catch (error) {
    if (error instanceof window.msal.InteractionRequiredAuthError) {
      await client.acquireTokenRedirect({ scopes, redirectStartPage: location.href });
    }
    throw error;
  }
}

export async function signOut() {
  if (client) await client.logoutRedirect();
}
