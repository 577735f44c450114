// Run Checks: the unreviewed runs grouped by customer and job. Renders from its own data first,
// then asks for the Autotask poll of the runs on screen and updates their badges when it answers.
import { get, post, query } from "../api.js";
import { copyText, STATUSES } from "../format.js";
import { hashFor } from "../router.js";

const POLL_TIMEOUT_MS = 15000;

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
    copied: null,
    busy: false,
    filters: { customer_id: "", status: [], software: "", informational: false, limit: 50, offset: 0 },

    init() {
      this.readFilters();
      this.load();
      this.loadCustomerOptions();
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
      try {
        const data = await get(`/run-checks${this.apiQuery()}`);
        this.customers = data.customers;
        this.page = data.page;
        if (!this.cursor || !this.allRuns().some((r) => r.id === this.cursor)) {
          this.cursor = this.allRuns()[0]?.id ?? null;
        }
      } catch (error) {
        this.error = error.message;
      } finally {
        this.loading = false;
      }
      if (!quiet && !this.error) {
        // after the rows are on screen: the poll never delays them
        this.$nextTick(() => requestAnimationFrame(() => this.poll()));
      }
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

    runCount() {
      return this.customers.reduce((n, c) => n + c.jobs.reduce((m, j) => m + j.runs.length, 0), 0);
    },

    pollableRunIds() {
      return this.allRuns()
        .filter((r) => r.autotask.ticket_id && !r.autotask.resolved_at && !r.autotask.ticket_deleted_in_psa)
        .map((r) => r.id);
    },

    async poll() {
      const runIds = this.pollableRunIds();
      await this.$store.session.ready;
      if (!runIds.length || !this.$store.session.can("Operator")) return;
      this.polling = true;
      this.pollNotice = "";
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), POLL_TIMEOUT_MS);
      try {
        const result = await post("/run-checks/poll", { run_ids: runIds }, { signal: controller.signal });
        const failed = (result.failed || []).length;
        if (failed) this.pollNotice = `Autotask status of ${failed} ticket(s) could not be refreshed; showing the last known state.`;
        if ((result.resolved_run_ids || []).length || (result.deleted_run_ids || []).length) {
          await this.load({ quiet: true });
        }
      } catch (error) {
        if (error.status === 404) return; // this API has no Autotask poll
        this.pollNotice =
          error.name === "AbortError"
            ? "Autotask is slow to answer; ticket badges show the last known state."
            : `Autotask status could not be refreshed (${error.message}); ticket badges show the last known state.`;
      } finally {
        clearTimeout(timer);
        this.polling = false;
      }
    },

    deletedInPsa() {
      return this.allRuns().filter((r) => r.autotask.ticket_deleted_in_psa);
    },

    // --- selection and review ---------------------------------------------------------------------

    selectedIds() {
      return Object.keys(this.selected).filter((id) => this.selected[id]).map(Number);
    },

    isSelected(run) {
      return Boolean(this.selected[run.id]);
    },

    toggle(run) {
      this.selected[run.id] = !this.selected[run.id];
    },

    setAll(runs, on) {
      for (const run of runs) if (!run.reviewed) this.selected[run.id] = on;
    },

    allSelected(runs) {
      const open = runs.filter((r) => !r.reviewed);
      return open.length > 0 && open.every((r) => this.selected[r.id]);
    },

    async review(ids, verb = "review") {
      if (!ids.length) return;
      this.busy = true;
      this.notice = "";
      this.error = "";
      try {
        const result = await post(`/runs/${verb}`, { run_ids: ids });
        const done = new Set(ids);
        for (const run of this.allRuns()) {
          if (done.has(run.id)) {
            run.reviewed = verb === "review";
            this.selected[run.id] = false;
          }
        }
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

    onKey(event) {
      const runs = this.allRuns();
      const index = runs.findIndex((r) => r.id === this.cursor);
      const move = (to) => {
        const run = runs[Math.max(0, Math.min(runs.length - 1, to))];
        if (!run) return;
        this.cursor = run.id;
        this.$nextTick(() => document.getElementById(`run-row-${run.id}`)?.focus());
        event.preventDefault();
      };
      if (event.target.closest("button, a, input, select")) return;
      if (event.key === "ArrowDown" || event.key === "j") move(index + 1);
      else if (event.key === "ArrowUp" || event.key === "k") move(index - 1);
      else if ((event.key === " " || event.key === "x") && runs[index]) {
        this.toggle(runs[index]);
        event.preventDefault();
      } else if ((event.key === "Enter" || event.key === "o") && runs[index]) {
        location.hash = this.runHref(runs[index]);
      }
    },

    runHref(run) {
      return `#/runs/${run.id}`;
    },

    async copy(run) {
      await copyText(run.autotask.ticket_number);
      this.copied = run.id;
      setTimeout(() => {
        if (this.copied === run.id) this.copied = null;
      }, 800);
    },

    pageTo(offset) {
      this.applyFilters({ offset: Math.max(0, offset) });
    },
  };
}
