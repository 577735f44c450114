// Hash routes: #/run-checks?status=failed,warning, #/jobs/12?run=34, … One store every page reads.

const PAGES = [
  [/^\/?$/, "run-checks"],
  [/^\/run-checks$/, "run-checks"],
  [/^\/runs\/(\d+)$/, "run", ["runId"]],
  [/^\/jobs$/, "jobs"],
  [/^\/jobs\/(\d+)$/, "job", ["jobId"]],
  [/^\/daily-jobs$/, "daily-jobs"],
  [/^\/inbox$/, "inbox"],
  [/^\/mails\/(\d+)$/, "mail", ["mailId"]],
  [/^\/customers$/, "customers"],
  [/^\/overrides$/, "overrides"],
  [/^\/tickets$/, "tickets"],
  [/^\/remarks$/, "remarks"],
  [/^\/parsers$/, "parsers"],
  [/^\/parsing-rules\/new$/, "rule-editor"],
  [/^\/parsing-rules\/(\d+)$/, "rule-editor", ["ruleId"]],
  [/^\/audit-log$/, "audit-log"],
  [/^\/reports$/, "reports"],
  [/^\/settings\/psa$/, "settings-psa"],
  [/^\/settings\/autotask$/, "settings-autotask"],
  [/^\/settings\/connectwise$/, "settings-connectwise"],
  [/^\/feedback$/, "feedback"],
  [/^\/feedback\/(\d+)$/, "feedback-item", ["feedbackId"]],
];

export function parseHash(hash) {
  const raw = (hash || "").replace(/^#/, "");
  const [path, search = ""] = raw.split("?");
  const params = Object.fromEntries(new URLSearchParams(search));
  for (const [pattern, page, names = []] of PAGES) {
    const match = pattern.exec(path);
    if (match) {
      const ids = Object.fromEntries(names.map((name, i) => [name, Number(match[i + 1])]));
      if (page === "job" && params.run) ids.runId = Number(params.run); // a job's page with one run open
      return { page, path, params, ...ids, key: raw };
    }
  }
  return { page: "not-found", path, params, key: raw };
}

export function hashFor(path, params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === "" || value === false) continue;
    if (Array.isArray(value) && !value.length) continue;
    search.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

export function navigate(path, params) {
  location.hash = hashFor(path, params);
}
