// The one way the site talks to the API: base URL from config.json, a bearer token when signed in,
// JSON both ways, and errors turned into sentences an operator can act on (never raw JSON).
import { accessToken } from "./auth.js";

let apiBase = "/api";

export function setApiBase(base) {
  apiBase = (base || "/api").replace(/\/$/, "");
}

export class ApiError extends Error {
  constructor(status, message, { code = null, fields = {}, correlationId = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields; // field name (without "body."/"query.") -> message, for forms
    this.correlationId = correlationId;
  }
}

const STATUS_WORDS = {
  401: "You are not signed in, or your sign-in has expired. Reload the page to sign in again.",
  403: "Your role does not allow this. Ask an administrator for the Operator or Admin role.",
  404: "Not found: it may have been deleted.",
  429: "The server is busy. Try again in a moment.",
  502: "An external service (Autotask or Microsoft Graph) answered with an error.",
  503: "The service is unavailable (the database may be unreachable). Try again in a moment.",
};

function fieldName(path) {
  return String(path || "").replace(/^(body|query|path)\./, "");
}

function humanField(path) {
  const name = fieldName(path).replace(/[._]/g, " ");
  return name ? name.charAt(0).toUpperCase() + name.slice(1) : "";
}

async function errorFrom(response) {
  const correlationId = response.headers.get("x-correlation-id");
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && body.error;
  const fields = {};
  let message = (error && error.message) || STATUS_WORDS[response.status] || `The server answered ${response.status}.`;
  if (error && Array.isArray(error.details) && error.details.length) {
    for (const detail of error.details) {
      if (detail && detail.field) fields[fieldName(detail.field)] = detail.message;
    }
    const listed = error.details
      .filter((d) => d && d.field && d.message)
      .map((d) => `${humanField(d.field)}: ${d.message}`);
    if (listed.length) message = listed.join("; ");
  }
  if (response.status === 401) message = STATUS_WORDS[401]; // the API's reason ("missing bearer token") helps nobody here
  if (response.status >= 500 && correlationId) message += ` (reference ${correlationId})`;
  return new ApiError(response.status, message, { code: error && error.code, fields, correlationId });
}

// One request with the token; an answer that is not OK becomes an ApiError in words.
async function send(method, path, { body, headers = {}, signal } = {}) {
  const token = await accessToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(apiBase + path, { method, headers, body, signal });
  } catch (cause) {
    if (cause && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "The API could not be reached. Check your network connection and try again.");
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function api(method, path, body, { signal } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await send(method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers, signal });
  if (response.status === 204) return null;
  return response.json();
}

// A file the API makes (a report's PDF or CSV): fetched with the token, saved under its own name.
export async function fetchFile(path) {
  const response = await send("GET", path);
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name ? name[1] : "report";
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

// Files as multipart/form-data, all under one field (the browser writes the boundary); JSON back.
export async function upload(path, files, field = "files") {
  const form = new FormData();
  for (const file of files) form.append(field, file, file.name);
  const response = await send("POST", path, { body: form, headers: { accept: "application/json" } });
  return response.json();
}

// A file the API serves (a screenshot), fetched with the token, as a Blob of the type it was served as.
export async function fetchBlob(path, { signal } = {}) {
  const response = await send("GET", path, { signal });
  return response.blob();
}

export const get = (path, options) => api("GET", path, undefined, options);
export const post = (path, body = {}, options) => api("POST", path, body, options);
export const put = (path, body, options) => api("PUT", path, body, options);
export const patch = (path, body, options) => api("PATCH", path, body, options);
export const del = (path, options) => api("DELETE", path, undefined, options);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) continue;
    search.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
