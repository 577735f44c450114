// Run Checks: the unreviewed runs grouped by customer and job. Renders from its own data first,
// then asks for the PSA poll of the runs on screen and updates their badges when it answers.
// The rows (hundreds) are plain DOM built in one pass, not per-row Alpine bindings: that is what
// keeps 500 rows within a few hundred milliseconds of the API's answer.
import { get, post, query } from "../api.js";
import { copyText, resolutionWord, statusClass, statusWord, STATUSES, when } from "../format.js";
import { hashFor } from "../router.js";
import { loadHistories, stripHtml } from "../strip.js";

const POLL_TIMEOUT_MS = 15000;
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

function runRow(run, operator, cursor, context = "") {
  const at = run.psa_ticket;
  const label = when(run.run_at);
  const ticket = at.ticket_number
    ? `<span class="ticket"><span class="font-monospace small">${esc(at.ticket_number)}</span>
       <button type="button" class="btn btn-link btn-sm p-0 copy" tabindex="-1" data-action="copy" data-run-id="${run.id}"
         aria-label="Copy ticket number ${esc(at.ticket_number)}">⧉</button></span>`
    : "";
  const done = run.reviewed || Boolean(run.snoozed_at);
  return `<tr id="run-row-${run.id}" tabindex="${run.id === cursor ? 0 : -1}" data-run-id="${run.id}"
      data-reviewed="${run.reviewed}" class="${done ? "run-done" : ""}">
    <td class="sel">${operator ? `<input class="form-check-input" type="checkbox" autocomplete="off" tabindex="-1"
      data-action="select" data-run-id="${run.id}" aria-label="Select run of ${esc(label)}"${done ? " disabled" : ""}>` : ""}</td>
    <td class="when"><a href="#/runs/${run.id}" tabindex="-1">${esc(label)}</a></td>
    <td class="status">${context ? `<a class="small fw-semibold me-1" href="#/jobs/${run.job_id}" tabindex="-1">${esc(context)}</a>
      <span class="strip-slot me-1" data-job-id="${run.job_id}"></span>` : ""}<span class="badge status-badge ${statusClass(run.effective_status)}">${statusWord(run.effective_status)}</span>
      ${run.overridden ? `<span class="badge text-bg-primary" title="Parsed as ${esc(run.status)}">Override</span>` : ""}
      <span class="reviewed-mark text-success fw-bold"${run.reviewed ? "" : " hidden"} aria-label="Reviewed" title="Reviewed">✓</span>
      <span class="snoozed-mark badge text-bg-light border"${run.snoozed_at ? "" : " hidden"}>Snoozed</span>
      ${reasonLine(run)}</td>
    <td class="autotask text-end">${ticket}
      ${at.resolution_origin ? `<span class="badge text-bg-success">${resolutionWord(at.resolution_origin)}</span>` : ""}
      ${at.ticket_deleted_in_psa ? '<span class="badge text-bg-danger">Deleted in PSA</span>' : ""}</td>
  </tr>`;
}

// why the run is in the list: its failing objects in short, the rest one click away; drift in a success
function reasonLine(run) {
  if (run.drift) return `<div class="reason small text-body-emphasis" data-testid="drift">${esc(run.drift.summary)}</div>`;
  const reason = run.reason;
  if (!reason) return "";
  const more = reason.failing.length > 1 || reason.failing_count > reason.failing.length;
  if (!more) return `<div class="reason small" data-testid="reason">${esc(reason.summary)}</div>`;
  const listed = reason.failing
    .map((o) => `<li><span class="fw-semibold">${esc(o.name)}</span>${o.message ? ` — ${esc(o.message)}` : ""}</li>`)
    .join("");
  const rest = reason.failing_count - reason.failing.length;
  return `<details class="reason small" data-testid="reason"><summary>${esc(reason.summary)}</summary>
    <ul class="mb-0 ps-3">${listed}</ul>${rest > 0 ? `<a href="#/runs/${run.id}" tabindex="-1">${rest} more in the run</a>` : ""}</details>`;
}

function jobCard(job, operator, cursor) {
  return `<div class="job-group card mb-2" data-job-id="${job.job_id}">
    <div class="card-header py-1 d-flex flex-wrap align-items-center gap-2">
      ${operator ? `<input class="form-check-input m-0" type="checkbox" autocomplete="off" data-action="select-job"
        data-job-id="${job.job_id}" aria-label="Select all runs of ${esc(job.job_name)}">` : ""}
      <a class="fw-semibold job-link" href="#/jobs/${job.job_id}">${esc(job.job_name)}</a>
      <span class="small text-body-secondary">${esc(job.backup_software)} · ${esc(job.backup_type)}</span>
      ${job.informational ? '<span class="badge text-bg-light border">Informational</span>' : ""}
      ${job.open_tickets ? `<span title="Open tickets" aria-label="${job.open_tickets} open ticket(s)"><svg class="icon" aria-hidden="true"><use href="#i-ticket"></use></svg><span class="small">${job.open_tickets}</span></span>` : ""}
      ${job.open_remarks ? `<span title="Open remarks" aria-label="${job.open_remarks} open remark(s)"><svg class="icon" aria-hidden="true"><use href="#i-remark"></use></svg><span class="small">${job.open_remarks}</span></span>` : ""}
      <span class="strip-slot" data-job-id="${job.job_id}"></span>
      <span class="ms-auto small text-body-secondary">${job.unreviewed_runs} unreviewed</span>
    </div>
    <table class="table table-sm table-hover mb-0 runs">
      <caption class="visually-hidden">Unreviewed runs of ${esc(job.job_name)}</caption>
      <thead class="visually-hidden"><tr><th scope="col">Select</th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">PSA ticket</th></tr></thead>
      <tbody>${job.runs.map((run) => runRow(run, operator, cursor)).join("")}</tbody>
    </table>
  </div>`;
}

// Failures grouped by cause: the page's failed, warning and missed runs by their masked error text,
// largest group first, each with its actions; the successful runs last, as one group.
export function causeGroups(customers) {
  const groups = new Map();
  for (const customer of customers) {
    for (const job of customer.jobs) {
      for (const run of job.runs) {
        const key = run.drift ? "drift" : run.effective_status === "success" || !run.reason ? "success" : `${run.effective_status}|${run.reason.cause}`;
        if (!groups.has(key)) groups.set(key, { key, status: run.effective_status, example: run.reason, runs: [] });
        groups.get(key).runs.push({ run, context: `${customer.customer_name} · ${job.job_name}` });
      }
    }
  }
  const severity = { failed: 0, missed: 1, warning: 2 };
  return [...groups.values()].sort(
    (a, b) => (a.key === "success") - (b.key === "success") || b.runs.length - a.runs.length || (severity[a.status] ?? 3) - (severity[b.status] ?? 3),
  );
}

function causeText(group) {
  if (group.key === "success") return "Successful";
  if (group.key === "drift") return "Success, but unlike the job's recent runs (an object missing, or a size far below the usual)";
  const first = group.example.failing[0];
  return first ? first.message || `${first.name} ${statusWord(first.status).toLowerCase()}` : group.example.summary;
}

function causeCard(group, index, operator, cursor, { ticketsEnabled, open }) {
  const count = group.runs.length;
  const jobs = new Set(group.runs.map((r) => r.context)).size;
  const actions = operator
    ? `<button type="button" class="btn btn-sm btn-outline-success" data-action="review-group" data-group="${index}">Review all (${count})</button>
       ${ticketsEnabled && group.key !== "success" ? `<button type="button" class="btn btn-sm btn-outline-primary" data-action="ticket-group" data-group="${index}">One ticket per run (${count})</button>` : ""}`
    : "";
  return `<div class="cause-group card mb-2" data-group="${index}">
    <div class="card-header py-1 d-flex flex-wrap align-items-center gap-2">
      <span class="badge ${statusClass(group.status)}">${count}</span>
      <span class="fw-semibold cause-text">${esc(causeText(group))}</span>
      <span class="small text-body-secondary">${count} run(s) of ${jobs} job(s)</span>
      <span class="ms-auto d-flex flex-wrap gap-1">${actions}
        <button type="button" class="btn btn-sm btn-outline-secondary" data-action="open-group" data-group="${index}" aria-expanded="${open}">${open ? "Hide the runs" : "Open the runs"}</button></span>
    </div>
    <table class="table table-sm table-hover mb-0 runs"${open ? "" : " hidden"}>
      <caption class="visually-hidden">Runs failing with: ${esc(causeText(group))}</caption>
      <thead class="visually-hidden"><tr><th scope="col">Select</th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Autotask</th></tr></thead>
      <tbody>${group.runs.map(({ run, context }) => runRow(run, operator, cursor, context)).join("")}</tbody>
    </table>
  </div>`;
}

function customerSection(customer, operator, cursor) {
  return `<section class="customer-group mb-3" aria-label="${esc(customer.customer_name)}">
    <h2 class="h6 customer-name mb-1">${esc(customer.customer_name)}</h2>
    ${customer.jobs.map((job) => jobCard(job, operator, cursor)).join("")}
  </section>`;
}

export function runChecks() {
  return {
    loading: true,
    error: "",
    notice: "",
    pollNotice: "",
    polling: false,
    customers: [],
    filterCustomerName: "",
    page: { offset: 0, limit: 50, has_more: false },
    selected: {},
    cursor: null,
    version: 0,
    busy: false,
    view: "jobs",
    groups: [],
    openGroups: {},
    snoozeReason: "",
    snoozeIds: [],
    filters: { customer_id: "", status: [], software: "", informational: false, limit: 50, offset: 0 },

    init() {
      this.readFilters();
      this.load().then(() => this.loadFilterCustomer()); // the filter's name after the rows
      this.$watch("$store.route.key", () => {
        if (this.$store.route.page !== "run-checks") return;
        this.readFilters();
        this.load();
        this.loadFilterCustomer();
      });
    },

    readFilters() {
      const p = this.$store.route.params;
      this.filters = {
        customer_id: p.customer_id || "",
        status: (p.status || "").split(",").filter((s) => STATUSES.includes(s)),
        software: p.software || "",
        informational: p.informational === "1",
        limit: Number(p.limit) || 50,
        offset: Number(p.offset) || 0,
      };
      this.view = p.view === "causes" ? "causes" : "jobs";
    },

    applyFilters(changes = {}) {
      const f = { ...this.filters, offset: 0, ...changes };
      location.hash = hashFor("/run-checks", {
        customer_id: f.customer_id,
        status: f.status,
        software: f.software,
        informational: f.informational ? "1" : "",
        limit: f.limit === 50 ? "" : f.limit,
        offset: f.offset || "",
        view: (changes.view ?? this.view) === "causes" ? "causes" : "",
      });
    },

    toggleStatus(status) {
      const chosen = this.filters.status.includes(status)
        ? this.filters.status.filter((s) => s !== status)
        : [...this.filters.status, status];
      this.applyFilters({ status: chosen });
    },

    apiQuery() {
      const f = this.filters;
      return query({
        customer_id: f.customer_id,
        status: f.status,
        software: f.software,
        informational: f.informational ? "" : "false",
        limit: f.limit,
        offset: f.offset,
      });
    },

    async load({ quiet = false } = {}) {
      if (!quiet) {
        this.loading = true;
        this.selected = {};
      }
      this.error = "";
      let data = null;
      try {
        [data] = await Promise.all([get(`/run-checks${this.apiQuery()}`), this.$store.session.ready]);
      } catch (error) {
        this.error = error.message;
      }
      if (data) {
        // the strips' call goes out first: it needs only the job ids, and the rows take a while
        const histories = loadHistories(data.customers.flatMap((c) => c.jobs.map((j) => j.job_id)));
        const runs = data.customers.flatMap((c) => c.jobs.flatMap((j) => j.runs));
        if (!runs.some((r) => r.id === this.cursor)) this.cursor = runs[0]?.id ?? null;
        this.render(data.customers);
        // hundreds of runs stay out of Alpine's deep reactivity; `version` tells the bindings they changed
        this.customers = Object.freeze(data.customers);
        this.version += 1;
        this.page = data.page;
        this.drawStrips(histories);
      }
      this.loading = false;
      if (!quiet && data) {
        this.focusQueue();
        // after the rows are on screen: the poll never delays them
        requestAnimationFrame(() => setTimeout(() => this.poll()));
      }
    },

    render(customers) {
      const operator = this.$store.session.can("Operator");
      const container = this.$root.querySelector("#rc-groups");
      if (this.view === "causes") {
        this.groups = causeGroups(customers);
        const ticketsEnabled = customers.some((c) => c.jobs.some((j) => j.runs.some((r) => !/_disabled$/.test(r.psa_ticket.resolve_blocked_reason || ""))));
        container.innerHTML = this.groups
          .map((group, index) => causeCard(group, index, operator, this.cursor, { ticketsEnabled, open: Boolean(this.openGroups[group.key]) }))
          .join("");
      } else {
        container.innerHTML = customers.map((c) => customerSection(c, operator, this.cursor)).join("");
      }
    },

    showView(view) {
      this.openGroups = {};
      this.applyFilters({ view });
    },

    // on arrival the first run has the focus, so the keys work at once (unless the operator is typing)
    focusQueue() {
      this.$nextTick(() => {
        const active = document.activeElement;
        if (active && active.closest("input, select, textarea, dialog")) return;
        const row = document.getElementById(`run-row-${this.cursor}`);
        if (row && !row.closest("[hidden]")) row.focus({ preventScroll: true });
      });
    },

    // the queue is empty when every run on the page is reviewed or snoozed
    queueDone() {
      const runs = this.allRuns();
      return runs.length > 0 && runs.every((r) => r.reviewed || r.snoozed_at);
    },

    // the customer filtered on, by name (the picker searches the rest on the server)
    // the 14-day strips of the jobs on screen (one call for the page), drawn into the rendered cards
    async drawStrips(pending) {
      const histories = await pending;
      for (const slot of this.$root.querySelectorAll(".strip-slot")) {
        slot.innerHTML = stripHtml(histories[slot.dataset.jobId], (runId) => `#/runs/${runId}`);
      }
    },

    async loadFilterCustomer() {
      const id = this.filters.customer_id;
      try {
        this.filterCustomerName = id ? (await get(`/customers/${id}`)).name : "";
      } catch {
        this.filterCustomerName = ""; // the filter stays usable through the URL
      }
    },

    allRuns() {
      void this.version; // a dependency for the bindings that count runs (the runs are not reactive)
      return this.customers.flatMap((c) => c.jobs.flatMap((j) => j.runs));
    },

    jobRuns(jobId) {
      for (const customer of this.customers) {
        const job = customer.jobs.find((j) => j.job_id === jobId);
        if (job) return job.runs;
      }
      return [];
    },

    pollableRunIds() {
      return this.allRuns()
        .filter((r) => r.psa_ticket.ticket_id && !r.psa_ticket.resolved_at && !r.psa_ticket.ticket_deleted_in_psa)
        .map((r) => r.id);
    },

    async poll() {
      const runIds = this.pollableRunIds();
      if (!runIds.length || !this.$store.session.can("Operator")) return;
      this.polling = true;
      this.pollNotice = "";
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), POLL_TIMEOUT_MS);
      try {
        const result = await post("/run-checks/poll", { run_ids: runIds }, { signal: controller.signal });
        const failed = (result.failed || []).length;
        if (failed) this.pollNotice = `PSA status of ${failed} ticket(s) could not be refreshed; showing the last known state.`;
        if ((result.resolved_run_ids || []).length || (result.deleted_run_ids || []).length) {
          await this.load({ quiet: true });
        }
      } catch (error) {
        if (error.status === 404 && !error.code) return; // this API has no PSA poll
        this.pollNotice =
          error.name === "AbortError"
            ? "The PSA is slow to answer; ticket badges show the last known state."
            : `PSA status could not be refreshed (${error.message}); ticket badges show the last known state.`;
      } finally {
        clearTimeout(timer);
        this.polling = false;
      }
    },

    deletedInPsa() {
      return this.allRuns().filter((r) => r.psa_ticket.ticket_deleted_in_psa);
    },

    // --- selection and review ---------------------------------------------------------------------

    selectedIds() {
      return Object.keys(this.selected).filter((id) => this.selected[id]).map(Number);
    },

    select(runIds, on) {
      const open = new Set(this.allRuns().filter((r) => !r.reviewed).map((r) => r.id));
      for (const id of runIds) if (open.has(id)) this.selected[id] = on;
      this.syncCheckboxes();
    },

    // the plain-DOM checkboxes follow the selection (rows, and each job's select-all)
    syncCheckboxes() {
      const container = this.$root.querySelector("#rc-groups");
      for (const box of container.querySelectorAll("input[data-action=select]")) {
        box.checked = Boolean(this.selected[box.dataset.runId]);
        box.closest("tr").classList.toggle("table-active", box.checked);
      }
      for (const box of container.querySelectorAll("input[data-action=select-job]")) {
        box.checked = this.allSelected(this.jobRuns(Number(box.dataset.jobId)));
      }
    },

    setAll(runs, on) {
      this.select(runs.map((r) => r.id), on);
    },

    allSelected(runs) {
      const open = runs.filter((r) => !r.reviewed);
      return open.length > 0 && open.every((r) => this.selected[r.id]);
    },

    onRowsChange(event) {
      const box = event.target;
      if (box.dataset.action === "select") this.select([Number(box.dataset.runId)], box.checked);
      else if (box.dataset.action === "select-job") this.setAll(this.jobRuns(Number(box.dataset.jobId)), box.checked);
    },

    onRowsClick(event) {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const group = this.groups[Number(button.dataset.group)];
      if (button.dataset.action === "copy") this.copy(button);
      else if (button.dataset.action === "review-group") this.review(group.runs.map((r) => r.run.id).filter((id) => this.isOpen(id)));
      else if (button.dataset.action === "ticket-group") this.ticketPerRun(group);
      else if (button.dataset.action === "open-group") this.toggleGroup(group, button);
    },

    toggleGroup(group, button) {
      const open = !this.openGroups[group.key];
      this.openGroups[group.key] = open;
      button.closest(".cause-group").querySelector("table").hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "Hide the runs" : "Open the runs";
    },

    isOpen(runId) {
      const run = this.allRuns().find((r) => r.id === runId);
      return Boolean(run) && !run.reviewed && !run.snoozed_at;
    },

    // one Autotask ticket for each run of a cause that has none yet, one after the other
    async ticketPerRun(group) {
      const runs = group.runs.map((r) => r.run).filter((run) => !run.psa_ticket.ticket_id);
      if (!runs.length || !confirm(`Create ${runs.length} Autotask ticket(s), one per run?`)) return;
      this.busy = true;
      this.notice = "";
      this.error = "";
      let made = 0;
      try {
        for (const run of runs) {
          await post(`/runs/${run.id}/psa-ticket`, {});
          made += 1;
        }
        this.notice = `${made} Autotask ticket(s) created.`;
      } catch (error) {
        this.error = `${made} ticket(s) created, then: ${error.message}`;
      } finally {
        this.busy = false;
        await this.load({ quiet: true });
      }
    },

    onRowsFocus(event) {
      const row = event.target.closest("tr[data-run-id]");
      if (row) this.moveCursor(Number(row.dataset.runId), { focus: false });
    },

    markReviewed(ids, reviewed, { snoozed = false } = {}) {
      const done = new Set(ids);
      for (const run of this.allRuns()) {
        if (!done.has(run.id)) continue;
        if (snoozed) run.snoozed_at = new Date().toISOString();
        else run.reviewed = reviewed;
        this.selected[run.id] = false;
        const row = document.getElementById(`run-row-${run.id}`);
        if (!row) continue;
        const finished = run.reviewed || Boolean(run.snoozed_at);
        row.dataset.reviewed = String(run.reviewed);
        row.classList.toggle("run-done", finished);
        row.querySelector(".reviewed-mark").hidden = !run.reviewed;
        row.querySelector(".snoozed-mark").hidden = !run.snoozed_at;
        const box = row.querySelector("input[data-action=select]");
        if (box) box.disabled = finished;
      }
      this.version += 1;
      this.syncCheckboxes();
      if (done.has(this.cursor)) this.nextOpen();
    },

    // after a run is done, the cursor goes to the next one still waiting (the queue's head)
    nextOpen() {
      const rows = this.visibleRows();
      const at = rows.findIndex((row) => Number(row.dataset.runId) === this.cursor);
      const waiting = (row) => this.isOpen(Number(row.dataset.runId));
      const next = rows.slice(at + 1).find(waiting) || rows.slice(0, Math.max(at, 0)).reverse().find(waiting);
      if (next) this.moveCursor(Number(next.dataset.runId));
      else this.$root.querySelector("[data-testid=all-reviewed] button")?.focus();
    },

    visibleRows() {
      return [...this.$root.querySelectorAll("#rc-groups tr[data-run-id]")].filter((row) => !row.closest("[hidden]"));
    },

    async review(ids, verb = "review") {
      if (!ids.length) return;
      this.busy = true;
      this.notice = "";
      this.error = "";
      try {
        const result = await post(`/runs/${verb}`, { run_ids: ids });
        this.markReviewed(ids, verb === "review");
        const n = result.changed.length;
        this.notice =
          verb === "review"
            ? `${n} run(s) marked reviewed${result.unchanged.length ? `, ${result.unchanged.length} already were` : ""}.`
            : `${n} run(s) marked unreviewed.`;
      } catch (error) {
        this.error = error.message;
      } finally {
        this.busy = false;
      }
    },

    reviewSelected() {
      return this.review(this.selectedIds());
    },

    successfulOnPage() {
      return this.allRuns().filter((r) => r.effective_status === "success" && !r.reviewed);
    },

    reviewSuccessful() {
      return this.review(this.successfulOnPage().map((r) => r.id));
    },

    // --- keyboard: ↑/↓ (or k/j) move, space/x select, enter/o open -------------------------------

    moveCursor(runId, { focus = true } = {}) {
      const previous = document.getElementById(`run-row-${this.cursor}`);
      if (previous && this.cursor !== runId) previous.tabIndex = -1;
      this.cursor = runId;
      const row = document.getElementById(`run-row-${runId}`);
      if (!row) return;
      row.tabIndex = 0;
      if (focus) row.focus();
    },

    // j/↓ k/↑ move, x/space select, r review, s snooze, o/enter open, ? the keys (the selection, else the current run)
    onKey(event) {
      if (event.target.closest("button, a, input, select, textarea, dialog, summary")) return;
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const rows = this.visibleRows();
      const index = rows.findIndex((row) => Number(row.dataset.runId) === this.cursor);
      const current = index >= 0 ? Number(rows[index].dataset.runId) : null;
      const operator = this.$store.session.can("Operator");
      const chosen = () => (this.selectedIds().length ? this.selectedIds() : current && this.isOpen(current) ? [current] : []);
      const move = (to) => {
        const row = rows[Math.max(0, Math.min(rows.length - 1, to))];
        if (row) this.moveCursor(Number(row.dataset.runId));
      };
      const keys = {
        ArrowDown: () => move(index + 1),
        j: () => move(index + 1),
        ArrowUp: () => move(index - 1),
        k: () => move(index - 1),
        " ": () => operator && current && this.select([current], !this.selected[current]),
        x: () => operator && current && this.select([current], !this.selected[current]),
        r: () => operator && this.review(chosen()),
        s: () => operator && this.askSnooze(chosen()),
        Enter: () => current && (location.hash = `#/runs/${current}`),
        o: () => current && (location.hash = `#/runs/${current}`),
        "?": () => this.$refs.keys.showModal(),
      };
      const action = keys[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    },

    askSnooze(ids) {
      if (!ids.length) return;
      this.snoozeIds = ids;
      this.snoozeReason = "";
      this.$refs.snooze.showModal();
      this.$nextTick(() => this.$refs.snoozeReason.focus());
    },

    async snooze() {
      const reason = this.snoozeReason.trim();
      if (!reason) return;
      this.$refs.snooze.close();
      const ids = this.snoozeIds;
      this.busy = true;
      this.notice = "";
      this.error = "";
      try {
        const result = await post("/runs/snooze", { run_ids: ids, reason });
        this.markReviewed(ids, false, { snoozed: true });
        this.notice = `${result.changed.length} run(s) snoozed until the job's next run: ${reason}`;
      } catch (error) {
        this.error = error.message;
      } finally {
        this.busy = false;
      }
    },

    async copy(button) {
      const run = this.allRuns().find((r) => r.id === Number(button.dataset.runId));
      await copyText(run.psa_ticket.ticket_number);
      button.textContent = "✓";
      setTimeout(() => (button.textContent = "⧉"), 800);
    },

    pageTo(offset) {
      this.applyFilters({ offset: Math.max(0, offset) });
    },
  };
}
