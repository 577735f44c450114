// Run Checks: the unreviewed runs grouped by customer and job. Renders from its own data first,
// then asks for the PSA poll of the runs on screen and updates their badges when it answers.
// The rows (hundreds) are plain DOM built in one pass, not per-row Alpine bindings: that is what
// keeps 500 rows within a few hundred milliseconds of the API's answer.
import { get, post, query } from "../api.js";
import { copyText, resolutionWord, statusClass, statusWord, STATUSES, when } from "../format.js";
import { hashFor } from "../router.js";

const POLL_TIMEOUT_MS = 15000;
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

function runRow(run, operator, cursor) {
  const at = run.psa_ticket;
  const label = when(run.run_at);
  const ticket = at.ticket_number
    ? `<span class="ticket"><span class="font-monospace small">${esc(at.ticket_number)}</span>
       <button type="button" class="btn btn-link btn-sm p-0 copy" tabindex="-1" data-action="copy" data-run-id="${run.id}"
         aria-label="Copy ticket number ${esc(at.ticket_number)}">⧉</button></span>`
    : "";
  return `<tr id="run-row-${run.id}" tabindex="${run.id === cursor ? 0 : -1}" data-run-id="${run.id}"
      data-reviewed="${run.reviewed}" class="${run.reviewed ? "run-done" : ""}">
    <td class="sel">${operator ? `<input class="form-check-input" type="checkbox" autocomplete="off" tabindex="-1"
      data-action="select" data-run-id="${run.id}" aria-label="Select run of ${esc(label)}"${run.reviewed ? " disabled" : ""}>` : ""}</td>
    <td class="when"><a href="#/runs/${run.id}" tabindex="-1">${esc(label)}</a></td>
    <td class="status"><span class="badge status-badge ${statusClass(run.effective_status)}">${statusWord(run.effective_status)}</span>
      ${run.overridden ? `<span class="badge text-bg-primary" title="Parsed as ${esc(run.status)}">Override</span>` : ""}
      <span class="reviewed-mark text-success fw-bold"${run.reviewed ? "" : " hidden"} aria-label="Reviewed" title="Reviewed">✓</span></td>
    <td class="autotask text-end">${ticket}
      ${at.resolution_origin ? `<span class="badge text-bg-success">${resolutionWord(at.resolution_origin)}</span>` : ""}
      ${at.ticket_deleted_in_psa ? '<span class="badge text-bg-danger">Deleted in PSA</span>' : ""}</td>
  </tr>`;
}

function jobCard(job, operator, cursor) {
  return `<div class="job-group card mb-2" data-job-id="${job.job_id}">
    <div class="card-header py-1 d-flex flex-wrap align-items-center gap-2">
      ${operator ? `<input class="form-check-input m-0" type="checkbox" autocomplete="off" data-action="select-job"
        data-job-id="${job.job_id}" aria-label="Select all runs of ${esc(job.job_name)}">` : ""}
      <a class="fw-semibold job-link" href="#/jobs/${job.job_id}">${esc(job.job_name)}</a>
      <span class="small text-body-secondary">${esc(job.backup_software)} · ${esc(job.backup_type)}</span>
      ${job.informational ? '<span class="badge text-bg-light border">Informational</span>' : ""}
      ${job.open_tickets ? `<span title="Open tickets" aria-label="${job.open_tickets} open ticket(s)">🎫<span class="small">${job.open_tickets}</span></span>` : ""}
      ${job.open_remarks ? `<span title="Open remarks" aria-label="${job.open_remarks} open remark(s)">💬<span class="small">${job.open_remarks}</span></span>` : ""}
      <span class="ms-auto small text-body-secondary">${job.unreviewed_runs} unreviewed</span>
    </div>
    <table class="table table-sm table-hover mb-0 runs">
      <caption class="visually-hidden">Unreviewed runs of ${esc(job.job_name)}</caption>
      <thead class="visually-hidden"><tr><th scope="col">Select</th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">PSA ticket</th></tr></thead>
      <tbody>${job.runs.map((run) => runRow(run, operator, cursor)).join("")}</tbody>
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
    customerOptions: [],
    page: { offset: 0, limit: 50, has_more: false },
    selected: {},
    cursor: null,
    busy: false,
    filters: { customer_id: "", status: [], software: "", informational: false, limit: 50, offset: 0 },

    init() {
      this.readFilters();
      this.load().then(() => this.loadCustomerOptions()); // the filter's options after the rows
      this.$watch("$store.route.key", () => {
        if (this.$store.route.page !== "run-checks") return;
        this.readFilters();
        this.load();
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
        const runs = data.customers.flatMap((c) => c.jobs.flatMap((j) => j.runs));
        if (!runs.some((r) => r.id === this.cursor)) this.cursor = runs[0]?.id ?? null;
        this.render(data.customers);
        this.customers = data.customers;
        this.page = data.page;
      }
      this.loading = false;
      if (!quiet && data) {
        // after the rows are on screen: the poll never delays them
        requestAnimationFrame(() => setTimeout(() => this.poll()));
      }
    },

    render(customers) {
      const operator = this.$store.session.can("Operator");
      const container = this.$root.querySelector("#rc-groups");
      container.innerHTML = customers.map((c) => customerSection(c, operator, this.cursor)).join("");
    },

    async loadCustomerOptions() {
      try {
        this.customerOptions = (await get("/customers?limit=200")).items;
      } catch {
        this.customerOptions = []; // the filter stays usable through the URL
      }
    },

    allRuns() {
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
      const button = event.target.closest("button[data-action=copy]");
      if (button) this.copy(button);
    },

    onRowsFocus(event) {
      const row = event.target.closest("tr[data-run-id]");
      if (row) this.moveCursor(Number(row.dataset.runId), { focus: false });
    },

    markReviewed(ids, reviewed) {
      const done = new Set(ids);
      for (const run of this.allRuns()) {
        if (!done.has(run.id)) continue;
        run.reviewed = reviewed;
        this.selected[run.id] = false;
        const row = document.getElementById(`run-row-${run.id}`);
        if (!row) continue;
        row.dataset.reviewed = String(reviewed);
        row.classList.toggle("run-done", reviewed);
        row.querySelector(".reviewed-mark").hidden = !reviewed;
        const box = row.querySelector("input[data-action=select]");
        if (box) box.disabled = reviewed;
      }
      this.syncCheckboxes();
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

    onKey(event) {
      if (event.target.closest("button, a, input, select, textarea")) return;
      const runs = this.allRuns();
      const index = runs.findIndex((r) => r.id === this.cursor);
      const move = (to) => {
        const run = runs[Math.max(0, Math.min(runs.length - 1, to))];
        if (run) this.moveCursor(run.id);
        event.preventDefault();
      };
      if (event.key === "ArrowDown" || event.key === "j") move(index + 1);
      else if (event.key === "ArrowUp" || event.key === "k") move(index - 1);
      else if ((event.key === " " || event.key === "x") && runs[index]) {
        if (this.$store.session.can("Operator")) this.select([runs[index].id], !this.selected[runs[index].id]);
        event.preventDefault();
      } else if ((event.key === "Enter" || event.key === "o") && runs[index]) {
        location.hash = `#/runs/${runs[index].id}`;
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
