// MSAL v5's redirect bridge: hands the sign-in response back to the site's page (a file of its own:
// the Content-Security-Policy allows no inline script).
msalRedirectBridge.broadcastResponseToMainFrame().catch(function (error) {
  document.body.textContent = "Sign-in failed: " + error.message;
});
