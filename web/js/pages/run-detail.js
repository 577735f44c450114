// A run's details (its own page, and below a job's history at #/jobs/{job}?run={run}): objects,
// the mail in a sandboxed iframe without scripts, tickets and remarks, and the actions on its PSA ticket.
import { get, post } from "../api.js";
import { copyText, mailDocument, resolutionWord } from "../format.js";

const FOLDED_AFTER = 10;
// Resolve's outcomes: only "resolved" closed the ticket; the others tell the operator what to do
const OUTCOME_KINDS = {
  resolved: "success",
  time_entries_exist: "warning",
  completed_in_psa: "info",
  deleted_in_psa: "warning",
};

const PSA_LABELS = { autotask: "Autotask", connectwise: "ConnectWise PSA" };
const label = (r) => PSA_LABELS[r.provider] || "PSA";

function ticketCreated(r) {
  if (r.manual) return `Ticket number ${r.psa_ticket_number} kept as typed (internal ticket ${r.internal_ticket_code}); it is looked up once the integration is enabled.`;
  if (r.found_after_lost_answer) return `${label(r)} ticket ${r.psa_ticket_number} (created by an earlier attempt whose answer was lost) is now linked; no second ticket was made.`;
  return `${label(r)} ticket ${r.psa_ticket_number} is linked to this run (internal ticket ${r.internal_ticket_code}).`;
}

export function runDetail() {
  return {
    runId: null,
    run: null,
    mail: null,
    loading: false,
    error: "",
    outcome: "",
    outcomeKind: "success",
    busy: false,
    copied: false,
    linkNumber: "",
    noteKind: "remark",
    noteText: "",
    noteError: "",
    showAllObjects: false,
    showRemote: false,

    init() {
      this.$watch("$store.route.runId", (id) => this.show(id));
      this.show(this.$store.route.runId);
    },

    async show(id) {
      if (!id || id === this.runId) return;
      this.runId = id;
      this.outcome = "";
      this.showAllObjects = false;
      this.showRemote = false;
      await this.load();
    },

    async load() {
      this.loading = !this.run || this.run.id !== this.runId;
      this.error = "";
      try {
        this.run = await get(`/runs/${this.runId}`);
        this.mail = null;
        if (this.run.mail_id) this.mail = await get(`/mails/${this.run.mail_id}`);
      } catch (error) {
        this.error = error.message;
      } finally {
        this.loading = false;
      }
    },

    mailDocument() {
      return mailDocument(this.mail, { remote: this.showRemote });
    },

    // failures first; a long tail of successful objects (242 mailboxes) stays folded until asked
    visibleObjects() {
      const order = { failed: 0, missed: 1, warning: 2, success: 3 };
      const sorted = [...this.run.objects].sort((a, b) => (order[a.status] ?? 0) - (order[b.status] ?? 0));
      return this.showAllObjects ? sorted : sorted.filter((o, i) => o.status !== "success" || i < FOLDED_AFTER);
    },

    hiddenObjects() {
      return this.run.objects.length - this.visibleObjects().length;
    },

    at() {
      return this.run ? this.run.psa_ticket : {};
    },

    resolution() {
      return resolutionWord(this.at().resolution_origin);
    },

    async act(path, body, describe) {
      this.busy = true;
      this.outcome = "";
      try {
        const result = await post(path, body);
        this.outcomeKind = (result && OUTCOME_KINDS[result.outcome]) || "success";
        this.outcome = describe(result || {});
        await this.load();
      } catch (error) {
        this.outcomeKind = "danger";
        this.outcome =
          error.status === 404 && !error.code
            ? "This action is not available on this server (no PSA integration routes)."
            : error.message;
      } finally {
        this.busy = false;
      }
    },

    createTicket() {
      return this.act(`/runs/${this.runId}/psa-ticket`, {}, ticketCreated);
    },

    linkTicket() {
      const number = this.linkNumber.trim();
      if (!number) {
        this.outcomeKind = "danger";
        this.outcome = `Enter the ${this.at().psa_label || "PSA"} ticket number to link.`;
        return;
      }
      return this.act(`/runs/${this.runId}/psa-ticket/link`, { ticket_number: number }, (r) => {
        this.linkNumber = "";
        return ticketCreated(r);
      });
    },

    resolveTicket() {
      return this.act(`/runs/${this.runId}/psa-ticket/resolve`, {}, (r) => r.message);
    },

    async setReviewed(on) {
      await this.act(`/runs/${on ? "review" : "unreview"}`, { run_ids: [this.runId] }, () =>
        on ? "Run marked reviewed." : "Run marked unreviewed.",
      );
    },

    async addNote() {
      const description = this.noteText.trim();
      this.noteError = "";
      if (!description) {
        this.noteError = "Write what the note is about.";
        return;
      }
      const path = this.noteKind === "ticket" ? "/tickets" : "/remarks";
      this.busy = true;
      try {
        await post(path, { description, job_ids: [this.run.job_id], run_ids: [this.runId] });
        this.noteText = "";
        this.outcomeKind = "success";
        this.outcome = this.noteKind === "ticket" ? "Internal ticket added." : "Remark added.";
        await this.load();
      } catch (error) {
        this.noteError = error.fields.description || error.message;
      } finally {
        this.busy = false;
      }
    },

    async resolveNote(kind, note) {
      await this.act(`/${kind}/${note.id}/resolve`, {}, () =>
        kind === "tickets" ? `Ticket ${note.ticket_code} resolved.` : "Remark resolved.",
      );
    },

    async copy() {
      await copyText(this.at().ticket_number);
      this.copied = true;
      setTimeout(() => (this.copied = false), 800);
    },
  };
}
