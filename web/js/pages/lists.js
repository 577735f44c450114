// The smaller pages: each a list from one API route, with its few actions.
import { del, get, patch, post, put, query } from "../api.js";
import { copyText } from "../format.js";
import { hashFor } from "../router.js";
import { loadHistories, stripHtml } from "../strip.js";

// What every list page shares: loading/error/notice states, paging, and acting with a message.
function listing(extra) {
  return {
    loading: true,
    error: "",
    notice: "",
    busy: false,
    items: [],
    page: { offset: 0, limit: 50, has_more: false },
    offset: 0,
    async fetchPage(path, params = {}) {
      this.loading = true;
      this.error = "";
      try {
        const data = await get(path + query({ ...params, offset: this.offset || "" }));
        this.items = data.items;
        this.page = data.page || this.page;
        return data;
      } catch (error) {
        this.error = error.message;
        return null;
      } finally {
        this.loading = false;
      }
    },
    async act(work, message) {
      this.busy = true;
      this.notice = "";
      this.error = "";
      try {
        const result = await work();
        this.notice = typeof message === "function" ? message(result) : message;
        await this.load();
        return result;
      } catch (error) {
        this.error = error.message;
        return null;
      } finally {
        this.busy = false;
      }
    },
    pageTo(offset) {
      this.offset = Math.max(0, offset);
      this.load();
    },
    ...extra,
  };
}

export function jobs() {
  return listing({
    customer: null,
    histories: {},
    init() {
      this.load();
      this.$watch("$store.route.key", () => this.$store.route.page === "jobs" && this.load());
    },
    load() {
      return this.fetchPage("/jobs", { customer_id: this.$store.route.params.customer_id }).then(async (data) => {
        this.customer = data ? data.customer : null;
        this.histories = await loadHistories(this.items.map((job) => job.id));
      });
    },
    strip(job) {
      return stripHtml(this.histories[job.id], (runId) => hashFor(`/jobs/${job.id}`, { run: runId }));
    },
  });
}

export function jobDetail() {
  return {
    job: null,
    history: null,
    loading: true,
    error: "",
    notice: "",
    copied: null,
    offset: 0,
    init() {
      this.load();
      this.$watch("$store.route.jobId", () => this.$store.route.page === "job" && ((this.offset = 0), this.load()));
    },
    async load() {
      this.loading = !this.job || this.job.id !== this.$store.route.jobId;
      this.error = "";
      try {
        const jobId = this.$store.route.jobId;
        [this.job, this.history] = await Promise.all([
          get(`/jobs/${jobId}${query({ offset: this.offset || "", limit: 50 })}`),
          loadHistories([jobId]).then((found) => found[jobId] || null),
        ]);
      } catch (error) {
        this.error = error.message;
      } finally {
        this.loading = false;
      }
    },
    pageTo(offset) {
      this.offset = Math.max(0, offset);
      this.load();
    },
    runHref(run) {
      return hashFor(`/jobs/${run.job_id}`, { run: run.id });
    },
    strip() {
      return stripHtml(this.history, (runId) => hashFor(`/jobs/${this.job.id}`, { run: runId }), { focusable: true });
    },
    async copy(run) {
      await copyText(run.psa_ticket.ticket_number);
      this.copied = run.id;
      setTimeout(() => this.copied === run.id && (this.copied = null), 800);
    },
    // a snooze taken back: the run is back in Run Checks, unreviewed
    async unsnooze(run) {
      try {
        await post("/runs/unsnooze", { run_ids: [run.id] });
        this.notice = "Snooze taken back: the run is in Run Checks again.";
        await this.load();
      } catch (error) {
        this.error = error.message;
      }
    },
    async setActive(active) {
      try {
        this.job = { ...this.job, ...(await patch(`/jobs/${this.job.id}`, { active })) };
        this.notice = active ? "Job activated." : "Job deactivated: it no longer appears in Run Checks.";
      } catch (error) {
        this.error = error.message;
      }
    },
  };
}

export function dailyJobs() {
  return listing({
    date: "",
    timezone: "",
    init() {
      this.date = this.$store.route.params.date || "";
      this.load();
      this.$watch("$store.route.key", () => {
        if (this.$store.route.page !== "daily-jobs") return;
        this.date = this.$store.route.params.date || "";
        this.load();
      });
    },
    load() {
      return this.fetchPage("/daily-jobs", { date: this.date, limit: 200 }).then((data) => {
        if (!data) return;
        this.date = data.date;
        this.timezone = data.timezone;
      });
    },
    choose(date) {
      location.hash = hashFor("/daily-jobs", { date });
    },
    shift(days) {
      const day = new Date(`${this.date}T12:00:00Z`);
      day.setUTCDate(day.getUTCDate() + days);
      this.choose(day.toISOString().slice(0, 10));
    },
  });
}

// the job identity the Inbox groups by (GET /api/inbox/groups), to find a mail's suggested customer
const identityKey = (m) =>
  [m.from_address, m.backup_software, m.backup_type, m.job_name].map((v) => String(v || "").trim().toLowerCase()).join("\u0000");

export function inbox() {
  return listing({
    selected: {},
    approving: null,
    approveMode: "existing",
    approveCustomerId: "",
    approveName: "",
    approveError: "",
    suggestions: {},
    failures: [],
    failuresError: "",
    init() {
      this.load();
    },
    async load() {
      this.selected = {};
      await Promise.all([this.fetchPage("/inbox", { limit: 100 }), this.loadSuggestions()]);
      try {
        this.failures = (await get("/ingestion/failures?limit=100")).items;
        this.failuresError = "";
      } catch (error) {
        this.failuresError = error.message;
      }
    },
    async loadSuggestions() {
      try {
        const { groups } = await get("/inbox/groups");
        this.suggestions = Object.fromEntries(groups.filter((g) => g.suggested_customer).map((g) => [identityKey(g), g.suggested_customer]));
      } catch {
        this.suggestions = {}; // the form still works: the operator picks the customer
      }
    },
    suggestionFor(mail) {
      return this.suggestions[identityKey(mail)] || null;
    },
    selectedIds() {
      return Object.keys(this.selected).filter((id) => this.selected[id]).map(Number);
    },
    allSelected() {
      return this.items.length > 0 && this.items.every((m) => this.selected[m.id]);
    },
    selectAll(on) {
      for (const mail of this.items) this.selected[mail.id] = on;
    },
    startApprove(mail) {
      this.approving = mail.id;
      this.approveError = "";
      this.approveName = "";
      this.approveCustomerId = "";
      this.approveMode = "existing";
      this.$nextTick(() => document.getElementById(`approve-${mail.id}`)?.querySelector("input[role=combobox]")?.focus());
    },
    async approve(mail) {
      const body =
        this.approveMode === "existing"
          ? { customer_id: Number(this.approveCustomerId) || null }
          : { customer_name: this.approveName.trim() };
      if (!body.customer_id && !body.customer_name) {
        this.approveError = this.approveMode === "existing" ? "Choose a customer." : "Enter the new customer's name.";
        return;
      }
      this.approveError = "";
      try {
        const result = await post(`/inbox/${mail.id}/approve`, body);
        this.approving = null;
        this.notice = `Job “${mail.job_name}” approved: ${result.run_ids.length} run(s) created.`;
        await this.load();
      } catch (error) {
        this.approveError = error.fields.customer_name || error.fields.customer_id || error.message;
      }
    },
    reparse(mail) {
      return this.act(() => post(`/inbox/${mail.id}/reparse`), (r) =>
        r.run_id ? "Parsed again: the mail belongs to a known job and became a run." : `Parsed again: ${r.mail.parse_status}.`,
      );
    },
    deleteSelected() {
      const ids = this.selectedIds();
      if (!ids.length || !confirm(`Delete ${ids.length} mail(s) from the Inbox?`)) return;
      return this.act(() => post("/inbox/delete", { mail_ids: ids }), (r) => `${r.deleted.length} mail(s) deleted.`);
    },
    retry(failure) {
      return this.act(() => post(`/ingestion/failures/${failure.id}/retry`), "The mail is queued for ingestion again.");
    },
  });
}

export function mailView() {
  return {
    mail: null,
    loading: true,
    error: "",
    showRemote: false,
    async init() {
      try {
        this.mail = await get(`/mails/${this.$store.route.mailId}`);
      } catch (error) {
        this.error = error.message;
      } finally {
        this.loading = false;
      }
    },
  };
}

export function customers() {
  return listing({
    newName: "",
    newError: "",
    search: "",
    mapping: null,
    companySearch: "",
    companies: [],
    companyError: "",
    init() {
      this.load();
    },
    load() {
      return this.fetchPage("/customers", { search: this.search, limit: 100 });
    },
    async create() {
      this.newError = "";
      try {
        await post("/customers", { name: this.newName.trim() });
        this.notice = `Customer “${this.newName.trim()}” created.`;
        this.newName = "";
        await this.load();
      } catch (error) {
        this.newError = error.fields.name || error.message;
      }
    },
    setActive(customer, active) {
      return this.act(() => patch(`/customers/${customer.id}`, { active }), active ? "Customer activated." : "Customer deactivated.");
    },
    startMapping(customer) {
      this.mapping = customer.id;
      this.companySearch = customer.name;
      this.companies = [];
      this.companyError = "";
    },
    async searchCompanies() {
      this.companyError = "";
      try {
        const data = await get(`/psa/companies${query({ search: this.companySearch })}`);
        this.companies = data.items || data.companies || [];
        if (!this.companies.length) this.companyError = `No ${this.$store.session.psaLabel} company matches that name.`;
      } catch (error) {
        this.companyError = error.status === 404 && !error.code ? "PSA company search is not available on this server." : error.message;
      }
    },
    mapTo(customer, company) {
      this.mapping = null;
      return this.act(
        () => put(`/customers/${customer.id}/psa-company`, { company_id: company.id }),
        `“${customer.name}” is mapped to ${this.$store.session.psaLabel} company “${company.name || company.company_name}”.`,
      );
    },
    unmap(customer) {
      return this.act(() => del(`/customers/${customer.id}/psa-company`), `“${customer.name}” is no longer mapped.`);
    },
    checkMappings() {
      return this.act(() => post("/customers/psa-check"), (r) => {
        const changed = r.customers.filter((c) => c.status !== "ok");
        return `${r.customers.length} mapping(s) checked` +
          (changed.length ? `: ${changed.map((c) => `${c.customer_name} ${c.status}`).join(", ")}.` : ", all in order.");
      });
    },
  });
}

// a page opened from a job's "add override/remark/ticket" (#/overrides?job_id=12): that job, named
async function presetJob(route) {
  const id = Number(route.params.job_id);
  if (!id) return null;
  try {
    const job = await get(`/jobs/${id}?limit=1`);
    return { id: job.id, name: `${job.customer_name} · ${job.job_name}` };
  } catch {
    return null; // the picker stays empty: the operator picks the job
  }
}

const PREVIEW_DEBOUNCE_MS = 250;

export function overrides() {
  return listing({
    form: {
      scope: "job", customer_id: "", job_id: "", match_status: "", match_object_name: "", match_message: "",
      result_status: "success", reason: "", apply_to_unreviewed: true,
    },
    formErrors: {},
    presetJob: null,
    ready: false,
    preview: "",
    previewTimer: null,
    async init() {
      this.load();
      this.presetJob = await presetJob(this.$store.route);
      if (this.presetJob) this.form.job_id = String(this.presetJob.id);
      this.ready = true;
      this.$watch("form", () => this.schedulePreview());
      this.schedulePreview();
    },
    load() {
      return this.fetchPage("/overrides", { limit: 100 });
    },
    body() {
      const f = this.form;
      return {
        scope: f.scope,
        result_status: f.result_status,
        reason: f.reason.trim(),
        customer_id: f.scope === "customer" ? Number(f.customer_id) || null : null,
        job_id: f.scope === "job" ? Number(f.job_id) || null : null,
        match_status: f.match_status || null,
        match_object_name: f.match_object_name.trim() || null,
        match_message: f.match_message.trim() || null,
        apply_to_unreviewed: f.apply_to_unreviewed,
      };
    },
    schedulePreview() {
      clearTimeout(this.previewTimer);
      this.previewTimer = setTimeout(() => this.loadPreview(), PREVIEW_DEBOUNCE_MS);
    },
    async loadPreview() {
      const body = this.body();
      if ((body.scope === "job" && !body.job_id) || (body.scope === "customer" && !body.customer_id) || !this.$store.session.can("Operator")) {
        this.preview = "";
        return;
      }
      try {
        const { runs_changed: n } = await post("/overrides/preview", { ...body, reason: body.reason || "preview" });
        this.preview = `Saving it changes the status of ${n} run(s) now.`;
      } catch (error) {
        this.preview = error.message;
      }
    },
    async create() {
      this.formErrors = {};
      try {
        const result = await post("/overrides", this.body());
        this.notice = `Override created; ${result.runs_changed} run(s) changed status.`;
        this.form.reason = "";
        await this.load();
      } catch (error) {
        this.formErrors = error.fields;
        this.error = error.message;
      }
    },
    remove(override) {
      if (!confirm("Delete this override? The runs it changed fall back to their parsed status.")) return;
      return this.act(() => del(`/overrides/${override.id}`), "Override deleted.");
    },
  });
}

export function notes(kind) {
  return listing({
    kind,
    state: "open",
    text: "",
    chosenJobs: [],
    formError: "",
    ready: false,
    async init() {
      this.load();
      const preset = await presetJob(this.$store.route);
      if (preset) this.chosenJobs = [preset];
      this.ready = true;
    },
    addJob(picked) {
      if (picked && !this.chosenJobs.some((j) => j.id === picked.id)) this.chosenJobs.push({ id: picked.id, name: picked.label });
    },
    load() {
      return this.fetchPage(`/${kind}`, { state: this.state, limit: 100 });
    },
    async create() {
      this.formError = "";
      const jobIds = this.chosenJobs.map((j) => j.id);
      if (!jobIds.length) {
        this.formError = "Pick the job(s) it is about.";
        return;
      }
      try {
        await post(`/${kind}`, { description: this.text.trim(), job_ids: jobIds });
        this.text = "";
        this.chosenJobs = [];
        this.notice = kind === "tickets" ? "Ticket created." : "Remark created.";
        await this.load();
      } catch (error) {
        this.formError = error.message;
      }
    },
    resolve(note) {
      return this.act(() => post(`/${kind}/${note.id}/resolve`), kind === "tickets" ? "Ticket resolved." : "Remark resolved.");
    },
  });
}

export function parsers() {
  return listing({
    rules: [],
    async init() {
      const data = await this.fetchPage("/parsers");
      this.rules = (data && data.rules) || [];
    },
  });
}

export function auditLog() {
  return listing({
    filter: { entity_type: "", actor: "", action: "" },
    init() {
      this.load();
    },
    load() {
      return this.fetchPage("/audit-log", { ...this.filter, limit: 100 });
    },
  });
}
