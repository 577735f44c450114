// Settings (Admin): which PSA is active, and each PSA's page (the form, test connection, reference data).
// The PSA pages share one component (providerSettings); each PSA says only what differs.
// Secrets are write-only: the API says whether one is stored, never what it is.
import { get, post, put } from "../api.js";

const isEmpty = (value) => value === "" || value === null || value === undefined;
const fields = (pairs) => pairs.map(([field]) => field);
// what a settings page shows but the API does not take back
const SHOWN_ONLY = ["reference_data", "reference_refreshed_at", "active", "updated_at", "updated_by"];

// One PSA's settings page (index.html draws it from `psa`, which describes the PSA):
//   key, name, menu (its name in the Settings menu), prefix (of the fields' ids),
//   texts and choices ([field, label]; choices are ids picked from the reference data),
//   numbers (other number fields), secret and secretLabel (the write-only field), secretFlag (the
//   view's "one is stored"), options(reference, field, form) -> [{id, label}],
//   dependents (field -> the choices whose options follow it).
function providerSettings(psa) {
  return {
    psa,
    loading: true,
    available: true,
    error: "",
    notice: "",
    testResult: "",
    testKind: "success",
    busy: false,
    form: {},
    secret: "",
    secretStored: false,
    active: false,
    reference: {},
    refreshedAt: null,
    fieldErrors: {},

    async init() {
      await this.load();
    },

    async load() {
      this.loading = true;
      try {
        this.fill(await get(psa.path));
      } catch (error) {
        if (error.status === 404 && !error.code) this.available = false;
        else this.error = error.message;
      } finally {
        this.loading = false;
      }
    },

    fill(settings) {
      const form = { ...settings };
      for (const key of [...SHOWN_ONLY, psa.secretFlag]) delete form[key];
      this.form = form;
      this.secretStored = Boolean(settings[psa.secretFlag]);
      this.active = Boolean(settings.active);
      this.takeReference(settings.reference_data, settings.reference_refreshed_at);
      this.secret = "";
    },

    takeReference(reference, refreshedAt) {
      this.reference = reference || {};
      this.refreshedAt = refreshedAt || null;
    },

    options(field) {
      return psa.options(this.reference, field, this.form);
    },

    // until a save or refresh has stored reference data there is nothing to choose from: ids are typed
    hasReference() {
      return Object.keys(this.reference).length > 0;
    },

    // a choice whose options follow another (ConnectWise statuses follow the board) is dropped
    // when that other choice leaves it behind
    choiceChanged(field) {
      for (const dependent of psa.dependents[field] || []) {
        const kept = this.options(dependent).some((option) => String(option.id) === String(this.form[dependent]));
        if (!kept) this.form[dependent] = "";
      }
    },

    fieldId(field) {
      return `${psa.prefix}-${field}`;
    },

    fieldError(name) {
      return this.fieldErrors[name] || "";
    },

    body() {
      const body = { ...this.form };
      for (const key of [...fields(psa.choices), ...psa.numbers]) body[key] = isEmpty(body[key]) ? null : Number(body[key]);
      for (const key of fields(psa.texts)) body[key] = (body[key] || "").trim() || null;
      if (this.secret) body[psa.secret] = this.secret;
      return body;
    },

    async save() {
      this.busy = true;
      this.fieldErrors = {};
      this.error = "";
      this.notice = "";
      try {
        this.fill(await put(psa.path, this.body()));
        this.notice = `${psa.name} settings saved.`;
      } catch (error) {
        this.fieldErrors = error.fields;
        this.error = Object.keys(error.fields).length ? "Some fields need attention (see below)." : error.message;
      } finally {
        this.busy = false;
      }
    },

    async test() {
      this.busy = true;
      this.testResult = "";
      try {
        this.testResult = connectionInWords(psa.name, await post(`${psa.path}/test`));
        this.testKind = "success";
      } catch (error) {
        this.testKind = "danger";
        this.testResult = error.message;
      } finally {
        this.busy = false;
      }
    },

    // the settings page carries the reference data in the PSA's own shape (e.g. statuses per board)
    async refresh() {
      this.busy = true;
      this.error = "";
      try {
        await post(`${psa.path}/refresh`);
        const settings = await get(psa.path);
        this.takeReference(settings.reference_data, settings.reference_refreshed_at);
        this.notice = `Reference data refreshed from ${psa.name}.`;
      } catch (error) {
        this.error = error.message;
      } finally {
        this.busy = false;
      }
    },
  };
}

function connectionInWords(name, result) {
  const usage = result.usage;
  return (
    `Connected to ${name} as ${result.user}${result.zone ? ` (zone ${result.zone})` : ""}, API at ${result.api_url}.` +
    (usage && usage.limit ? ` API usage: ${usage.used ?? "?"} of ${usage.limit} requests in the last ${usage.window_minutes ?? 60} minutes.` : "")
  );
}

// --- Autotask ---------------------------------------------------------------------------------------

// reference-data list -> the settings fields that choose from it
const AUTOTASK_LISTS = {
  queue_id: "queues",
  source_id: "sources",
  status_id: "statuses",
  completed_status_id: "statuses",
  priority_warning_id: "priorities",
  priority_failed_id: "priorities",
};

export function autotaskSettings() {
  return providerSettings({
    key: "autotask",
    name: "Autotask",
    menu: "Autotask",
    prefix: "at",
    path: "/settings/autotask",
    texts: [
      ["username", "API username"],
      ["integration_code", "Tracking identifier (API integration code)"],
      ["api_base_url", "API base URL (empty: discovered from the username)"],
      ["backupchecks_base_url", "Backupchecks base URL (links in tickets)"],
    ],
    choices: [
      ["queue_id", "Queue"],
      ["source_id", "Source"],
      ["status_id", "Status of a new ticket"],
      ["priority_warning_id", "Priority for Warning"],
      ["priority_failed_id", "Priority for Failed"],
      ["completed_status_id", "The “completed” status"],
    ],
    numbers: ["due_hours"],
    secret: "secret",
    secretLabel: "API secret",
    secretFlag: "secret_set",
    options(reference, field) {
      return (reference[AUTOTASK_LISTS[field]] || []).map((item) => ({ id: item.id, label: item.label }));
    },
    dependents: {},
  });
}

// --- ConnectWise PSA --------------------------------------------------------------------------------

const named = (item) => ({ id: item.id, label: item.name });

// ConnectWise's statuses belong to a board: only the chosen board's active ones are offered
function boardStatuses(reference, form) {
  return (reference.statuses || []).filter((status) => String(status.board_id) === String(form.board_id) && !status.inactive);
}

const CONNECTWISE_OPTIONS = {
  board_id: (reference) => (reference.boards || []).filter((board) => !board.inactive).map(named),
  new_status_id: (reference, form) => boardStatuses(reference, form).filter((status) => !status.closed).map(named),
  // the closed flag decides whether ConnectWise counts a ticket as closed: shown with each status
  closed_status_id: (reference, form) =>
    boardStatuses(reference, form).map((status) => ({ id: status.id, label: `${status.name} (${status.closed ? "closed" : "open"})` })),
  priority_warning_id: (reference) => (reference.priorities || []).map(named),
  priority_failed_id: (reference) => (reference.priorities || []).map(named),
  source_id: (reference) => (reference.sources || []).map(named),
};

export function connectwiseSettings() {
  return providerSettings({
    key: "connectwise",
    name: "ConnectWise PSA",
    menu: "ConnectWise",
    prefix: "cw",
    path: "/settings/connectwise",
    texts: [
      ["site", "Site (e.g. na.myconnectwise.net)"],
      ["company_id", "Company id"],
      ["public_key", "Public key"],
      ["client_id", "clientId (ConnectWise developer portal)"],
      ["backupchecks_base_url", "Backupchecks base URL (links in tickets)"],
    ],
    choices: [
      ["board_id", "Service board"],
      ["new_status_id", "Status of a new ticket"],
      ["closed_status_id", "Closed status (Resolve sets it)"],
      ["priority_warning_id", "Priority for Warning"],
      ["priority_failed_id", "Priority for Failed"],
      ["source_id", "Source"],
    ],
    numbers: [],
    secret: "private_key",
    secretLabel: "Private key",
    secretFlag: "private_key_set",
    options: (reference, field, form) => CONNECTWISE_OPTIONS[field](reference, form),
    dependents: { board_id: ["new_status_id", "closed_status_id"] },
  });
}

// --- the active PSA ---------------------------------------------------------------------------------

export function psaSettings() {
  return {
    loading: true,
    error: "",
    notice: "",
    busy: false,
    current: null,
    chosen: "none",

    async init() {
      try {
        this.show(await get("/settings/psa"));
      } catch (error) {
        this.error = error.message;
      } finally {
        this.loading = false;
      }
    },

    show(current) {
      this.current = current;
      this.chosen = current.provider;
    },

    configured(provider) {
      return Boolean(this.current && this.current.configured[provider]);
    },

    async save() {
      this.busy = true;
      this.error = "";
      this.notice = "";
      try {
        this.show(await put("/settings/psa", { provider: this.chosen }));
        this.notice = this.current.provider === "none" ? "No PSA is active now." : `${this.current.label} is the active PSA now.`;
        await this.$store.session.load(); // every page names the active PSA
      } catch (error) {
        this.error = error.message; // e.g. the PSA is not configured yet
      } finally {
        this.busy = false;
      }
    },
  };
}
