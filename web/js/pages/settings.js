// Settings → Extensions & Integrations → Autotask (Admin): the form, test connection, reference data.
// The secret is write-only: the API says whether one is stored, never what it is.
import { get, post, put } from "../api.js";

// reference-data list -> the settings fields that choose from it
const CHOICES = {
  queue_id: "queues",
  source_id: "sources",
  status_id: "statuses",
  completed_status_id: "statuses",
  priority_warning_id: "priorities",
  priority_failed_id: "priorities",
};

const TEXT_FIELDS = ["username", "integration_code", "api_base_url", "backupchecks_base_url"];

export function autotaskSettings() {
  return {
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
    reference: {},
    refreshedAt: null,
    fieldErrors: {},

    async init() {
      await this.load();
    },

    async load() {
      this.loading = true;
      try {
        this.fill(await get("/settings/autotask"));
      } catch (error) {
        if (error.status === 404 && !error.code) this.available = false;
        else this.error = error.message;
      } finally {
        this.loading = false;
      }
    },

    fill(settings) {
      const { reference_data: reference, reference_refreshed_at: refreshedAt, secret_set: secretSet, ...form } = settings;
      this.form = form;
      this.reference = reference || {};
      this.refreshedAt = refreshedAt || null;
      this.secretStored = Boolean(secretSet ?? settings.has_secret);
      this.secret = "";
    },

    options(field) {
      const list = this.reference[CHOICES[field]] || [];
      return list.map((item) => ({ id: item.id ?? item.value, label: item.label ?? item.name ?? String(item.id ?? item.value) }));
    },

    fieldError(name) {
      return this.fieldErrors[name] || "";
    },

    async save() {
      this.busy = true;
      this.fieldErrors = {};
      this.error = "";
      this.notice = "";
      const body = { ...this.form };
      for (const key of [...Object.keys(CHOICES), "due_hours"]) body[key] = body[key] === "" || body[key] === null || body[key] === undefined ? null : Number(body[key]);
      for (const key of TEXT_FIELDS) body[key] = (body[key] || "").trim() || null;
      delete body.updated_at;
      delete body.updated_by;
      if (this.secret) body.secret = this.secret;
      try {
        this.fill(await put("/settings/autotask", body));
        this.notice = "Autotask settings saved.";
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
        const result = await post("/settings/autotask/test");
        const usage = result.usage;
        this.testKind = "success";
        this.testResult =
          `Connected to Autotask as ${result.user}${result.zone ? ` (zone ${result.zone})` : ""}, API at ${result.api_url}.` +
          (usage && usage.limit
            ? ` API usage: ${usage.used ?? "?"} of ${usage.limit} requests in the last ${usage.window_minutes ?? 60} minutes.`
            : "");
      } catch (error) {
        this.testKind = "danger";
        this.testResult = error.message;
      } finally {
        this.busy = false;
      }
    },

    async refresh() {
      this.busy = true;
      this.error = "";
      try {
        this.reference = await post("/settings/autotask/refresh");
        this.refreshedAt = this.reference.refreshed_at;
        this.notice = "Reference data refreshed from Autotask.";
      } catch (error) {
        this.error = error.message;
      } finally {
        this.busy = false;
      }
    },
  };
}
