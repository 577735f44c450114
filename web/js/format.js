// Shared display rules: times in the configured timezone, status badges, the ⧉ copy button.

let timeZone; // undefined: the browser's own until /api/status tells the configured one

export function setTimeZone(zone) {
  timeZone = zone || undefined;
}

const formats = new Map();
function formatter(kind) {
  const key = `${kind}|${timeZone}`;
  if (!formats.has(key)) {
    const options =
      kind === "date"
        ? { dateStyle: "medium" }
        : kind === "time"
          ? { hour: "2-digit", minute: "2-digit" }
          : { dateStyle: "medium", timeStyle: "short" };
    formats.set(key, new Intl.DateTimeFormat(undefined, { ...options, timeZone }));
  }
  return formats.get(key);
}

export function when(value, kind = "datetime") {
  if (!value) return "—";
  const moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? String(value) : formatter(kind).format(moment);
}

export function ago(value) {
  if (!value) return "never";
  const minutes = Math.round((Date.now() - new Date(value).getTime()) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

// success green, warning yellow/orange, failed red, missed grey (SPEC §11)
const STATUS_CLASSES = {
  success: "text-bg-success",
  warning: "text-bg-warning",
  failed: "text-bg-danger",
  missed: "text-bg-secondary",
  pending: "text-bg-light border",
  not_expected: "text-bg-light border",
};
const STATUS_WORDS = {
  success: "Success",
  warning: "Warning",
  failed: "Failed",
  missed: "Missed",
  pending: "Pending",
  not_expected: "Not expected",
};

export const statusClass = (status) => STATUS_CLASSES[status] || "text-bg-light border";
export const statusWord = (status) => STATUS_WORDS[status] || status || "—";
export const STATUSES = ["failed", "warning", "missed", "success"];

// the API's own words for a mail no parser took ("not a backup report: an auto-reply", …)
export function parseReason(mail) {
  const reason = mail.parse_error ? mail.parse_error.charAt(0).toUpperCase() + mail.parse_error.slice(1) : "";
  if (mail.parse_status === "unparsed") return reason ? `Not parsed: ${reason}.` : "No parser recognises this mail.";
  return `Parse error: ${reason || "unknown"}`;
}

// A stored mail as the sandboxed iframe's document. Unless the operator asks for remote content,
// a policy of its own lets it load nothing from elsewhere: a tracking pixel or a stylesheet on the
// sender's server would tell them when and where the report was read.
const LOCAL_ONLY = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; font-src data:">`;
const REMOTE_REFERENCE = /(?:src|href|background)\s*=\s*["']?\s*(?:https?:)?\/\/|url\(\s*["']?\s*(?:https?:)?\/\//i;

export function hasRemoteContent(mail) {
  return Boolean(mail && mail.html_body && REMOTE_REFERENCE.test(mail.html_body));
}

export function mailDocument(mail, { remote = false } = {}) {
  if (!mail) return "";
  const policy = remote ? "" : LOCAL_ONLY;
  if (mail.html_body) return mail.html_body.replace(/^(\s*<!doctype[^>]*>)?/i, (doctype) => doctype + policy);
  const text = (mail.text_body || "(no body)").replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);
  return `${policy}<pre style="white-space:pre-wrap;font:14px system-ui">${text}</pre>`;
}

export function resolutionWord(origin) {
  if (origin === "psa") return "Resolved by PSA";
  if (origin === "backupchecks") return "Resolved by Backupchecks";
  return "";
}

// Clipboard API, then execCommand on a hidden textarea, then a prompt the user copies from.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // not allowed here (e.g. plain http): try the older way
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  if (!copied) window.prompt("Copy the ticket number:", text);
  return copied;
}
