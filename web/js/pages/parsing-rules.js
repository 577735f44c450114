// The parsing-rule editor: opened from an Inbox mail ("Teach a parser"), or on a saved rule. The rule
// is tested live (POST /parsing-rules/test) against that mail and every mail waiting from its sender
// (on a saved rule: the mail waiting from the senders it takes) while the operator types; saving re-parses the waiting mail, which then waits for approval.
import { get, patch, post } from "../api.js";

const TEST_DELAY_MS = 400;

function words(text) {
  return text
    .split(",")
    .map((word) => word.trim())
    .filter(Boolean);
}

function blankForm(mail) {
  return {
    name: "",
    software: "",
    backup_type: "Backup",
    sender: (mail && mail.from_address) || "",
    subject_pattern: "",
    job_source: "subject",
    job_pattern: "",
    job_text: "",
    status_where: "both",
    success: "success, successful, completed",
    warning: "warning, warnings",
    failed: "failed, error",
    objects_on: false,
    objects_per: "line",
    objects_pattern: "",
  };
}

function formOf(rule) {
  const spec = rule.spec;
  const objects = spec.objects || {};
  return {
    name: rule.name,
    software: spec.software,
    backup_type: spec.backup_type,
    sender: spec.match.sender,
    subject_pattern: spec.match.subject_pattern || "",
    job_source: spec.job_name.source,
    job_pattern: spec.job_name.pattern || "",
    job_text: spec.job_name.text || "",
    status_where: spec.status.where,
    success: spec.status.success.join(", "),
    warning: spec.status.warning.join(", "),
    failed: spec.status.failed.join(", "),
    objects_on: Boolean(spec.objects),
    objects_per: objects.per || "line",
    objects_pattern: objects.pattern || "",
  };
}

export function ruleEditor() {
  return {
    mail: null,
    rule: null,
    form: blankForm(null),
    test: null,
    testError: "",
    testing: false,
    error: "",
    notice: "",
    fields: {},
    busy: false,
    loading: true,
    timer: null,
    async init() {
      const route = this.$store.route;
      try {
        if (route.ruleId) {
          this.rule = await get(`/parsing-rules/${route.ruleId}`);
          this.form = formOf(this.rule);
        }
        const mailId = Number(route.params.mail) || null;
        if (mailId) this.mail = await get(`/mails/${mailId}`);
        if (!this.rule) this.form = blankForm(this.mail);
      } catch (error) {
        this.error = error.message;
      } finally {
        this.loading = false;
      }
      this.$watch("form", () => this.scheduleTest(), { deep: true });
      this.runTest();
    },
    spec() {
      const f = this.form;
      const job =
        f.job_source === "fixed"
          ? { source: "fixed", text: f.job_text.trim() }
          : { source: f.job_source, pattern: f.job_pattern };
      return {
        software: f.software.trim(),
        backup_type: f.backup_type.trim(),
        match: { sender: f.sender.trim(), subject_pattern: f.subject_pattern || null },
        job_name: job,
        status: { where: f.status_where, success: words(f.success), warning: words(f.warning), failed: words(f.failed) },
        objects: f.objects_on ? { per: f.objects_per, pattern: f.objects_pattern } : null,
      };
    },
    fieldError(path) {
      return this.fields[`spec.${path}`] || "";
    },
    scheduleTest() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.runTest(), TEST_DELAY_MS);
    },
    async runTest() {
      this.testing = true;
      try {
        const body = this.mail ? { mail_id: this.mail.id, spec: this.spec() } : { spec: this.spec() };
        this.test = await post("/parsing-rules/test", body);
        this.testError = "";
        this.fields = {};
      } catch (error) {
        this.test = null;
        this.testError = error.message;
        this.fields = error.fields || {};
      } finally {
        this.testing = false;
      }
    },
    async save() {
      this.busy = true;
      this.error = "";
      this.notice = "";
      try {
        const body = { name: this.form.name.trim(), spec: this.spec() };
        const saved = this.rule
          ? await patch(`/parsing-rules/${this.rule.id}`, body)
          : await post("/parsing-rules", body);
        this.rule = saved.rule;
        this.notice =
          `Rule “${saved.rule.name}” saved (version ${saved.rule.version}): ` +
          `${saved.parsed} of ${saved.reparsed} waiting mails now parse` +
          (saved.booked ? `, ${saved.booked} booked to known jobs.` : "; approve them in the Inbox.");
      } catch (error) {
        this.error = error.message;
        this.fields = error.fields || {};
      } finally {
        this.busy = false;
      }
    },
    async disable() {
      this.busy = true;
      try {
        this.rule = await post(`/parsing-rules/${this.rule.id}/disable`);
        this.notice = `Rule “${this.rule.name}” disabled: new mail no longer uses it.`;
      } catch (error) {
        this.error = error.message;
      } finally {
        this.busy = false;
      }
    },
  };
}
