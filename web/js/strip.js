// A job's last days as a strip of squares (GET /api/job-history, one call for a page of jobs):
// green success, orange warning, red failed, grey missed, outlined when no run came though one was
// expected, faint when none was expected; a blue frame for an override, a tick when reviewed.
// Plain HTML (escaped here), so Run Checks can drop it into hundreds of rows in one pass.
import { get, query } from "./api.js";
import { statusWord } from "./format.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
const DAY = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

function dayWords(day) {
  const date = DAY.format(new Date(`${day.date}T00:00:00Z`));
  if (!day.run_id) return `${date}: ${day.status === "not_expected" ? "no run expected" : "no run"}`;
  const parts = [`${date}: ${statusWord(day.status)}`];
  if (day.runs > 1) parts.push(`(${day.runs} runs)`);
  if (day.message) parts.push(`— ${day.message}`);
  if (day.overridden) parts.push("· override");
  parts.push(day.reviewed ? "· reviewed" : "· not reviewed");
  return parts.join(" ");
}

export function stripHtml(history, runHref, { focusable = false } = {}) {
  if (!history) return "";
  const squares = history.days.map((day) => {
    const words = esc(dayWords(day));
    const marks = `${day.overridden ? " day-override" : ""}${day.reviewed ? " day-reviewed" : ""}`;
    if (!day.run_id) return `<span class="day day-${day.status}" title="${words}" role="img" aria-label="${words}"></span>`;
    return `<a class="day day-${day.status}${marks}" href="${esc(runHref(day.run_id))}" title="${words}" aria-label="${words}"${
      focusable ? "" : ' tabindex="-1"'
    }></a>`;
  });
  return `<span class="strip" data-testid="strip" data-job-id="${history.job_id}">${squares.join("")}</span>`;
}

// the strips of a page of jobs, by job id (an empty map when the API cannot answer: strips are extra)
export async function loadHistories(jobIds) {
  if (!jobIds.length) return {};
  try {
    const data = await get(`/job-history${query({ job_ids: jobIds })}`);
    return Object.fromEntries(data.jobs.map((job) => [job.job_id, job]));
  } catch {
    return {};
  }
}
