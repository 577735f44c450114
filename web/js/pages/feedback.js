// Feedback: the list (votes, status badges, filters), an item with its replies and screenshots,
// posting with screenshots previewed before upload, soft delete with undo, the admin's permanent delete.
// Screenshots are fetched with the token and shown through object URLs in <img> only: an image
// element never runs what a file holds, whatever it holds.
import { del, fetchBlob, get, patch, post, put, query, upload } from "../api.js";
import { hashFor, navigate } from "../router.js";

export const KINDS = [
  ["bug", "Bug"],
  ["feature", "Feature"],
  ["question", "Question"],
];
export const STATES = [
  ["open", "Open"],
  ["planned", "Planned"],
  ["done", "Done"],
  ["declined", "Declined"],
];
const STATE_CLASSES = { open: "text-bg-primary", planned: "text-bg-info", done: "text-bg-success", declined: "text-bg-secondary" };
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
// The server's defaults (FEEDBACK_MAX_SCREENSHOT_BYTES, FEEDBACK_MAX_SCREENSHOTS): a hint before
// uploading; the server checks every file's bytes and has the last word.
const MAX_BYTES = 5 * 1024 * 1024;
const MAX_FILES = 10;

const label = (pairs, value) => (pairs.find(([key]) => key === value) || [value, value])[1];
export const kindWord = (kind) => label(KINDS, kind);
export const stateWord = (state) => label(STATES, state);
export const stateClass = (state) => STATE_CLASSES[state] || "text-bg-light border";

function size(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

// The screenshots chosen for a post, previewed before anything is sent.
function screenshotPicker() {
  return {
    chosen: [], // {file, url, problem}
    pick(event) {
      for (const file of event.target.files) {
        let problem = "";
        if (!IMAGE_TYPES.includes(file.type)) problem = "not a PNG, JPEG, GIF or WebP image";
        else if (file.size > MAX_BYTES) problem = `${size(file.size)}; at most ${size(MAX_BYTES)}`;
        this.chosen.push({ file, url: problem ? "" : URL.createObjectURL(file), problem });
      }
      event.target.value = ""; // the same file may be chosen again after removing it
    },
    unpick(index) {
      const [gone] = this.chosen.splice(index, 1);
      if (gone && gone.url) URL.revokeObjectURL(gone.url);
    },
    files() {
      return this.chosen.map((item) => item.file);
    },
    clearPicked() {
      for (const item of this.chosen) if (item.url) URL.revokeObjectURL(item.url);
      this.chosen = [];
    },
    pickProblem() {
      if (this.chosen.length > MAX_FILES) return `At most ${MAX_FILES} screenshots per post.`;
      const bad = this.chosen.find((item) => item.problem);
      return bad ? `${bad.file.name}: ${bad.problem}. Remove it to post.` : "";
    },
    size,
  };
}

export function feedbackList() {
  return {
    picker: screenshotPicker(),
    KINDS,
    STATES,
    kindWord,
    stateWord,
    stateClass,
    items: [],
    loading: true,
    error: "",
    notice: "",
    busy: false,
    filters: { status: "", kind: "", sort: "date", deleted: false },
    form: { kind: "bug", title: "", description: "" },
    formError: "",
    init() {
      this.readFilters();
      this.load();
      this.$watch("$store.route.key", () => {
        if (this.$store.route.page !== "feedback") return;
        this.readFilters();
        this.load();
      });
    },
    readFilters() {
      const params = this.$store.route.params;
      this.filters = { status: params.status || "", kind: params.kind || "", sort: params.sort || "date", deleted: params.deleted === "true" };
    },
    applyFilters(change) {
      location.hash = hashFor("/feedback", { ...this.filters, ...change });
    },
    async load() {
      this.loading = true;
      this.error = "";
      try {
        // times show in the UI timezone, which the session's /me names
        const [data] = await Promise.all([get(`/feedback${query({ ...this.filters, deleted: this.filters.deleted || "", limit: 200 })}`), this.$store.session.ready]);
        this.items = data.items;
      } catch (error) {
        this.error = error.message;
      } finally {
        this.loading = false;
      }
    },
    async toggleVote(item) {
      try {
        const result = item.voted ? await del(`/feedback/${item.id}/vote`) : await put(`/feedback/${item.id}/vote`);
        Object.assign(item, result);
      } catch (error) {
        this.error = error.message;
      }
    },
    async create() {
      this.formError = this.picker.pickProblem();
      if (this.formError) return;
      this.busy = true;
      let item = null;
      try {
        item = await post("/feedback", { ...this.form, title: this.form.title.trim(), description: this.form.description.trim() });
        if (this.picker.chosen.length) await upload(`/feedback/${item.id}/attachments`, this.picker.files());
        this.picker.clearPicked();
        this.form = { kind: "bug", title: "", description: "" };
        navigate(`/feedback/${item.id}`);
      } catch (error) {
        if (item) {
          // the item stands; its screenshots were refused as a whole and can be added on its page
          this.notice = `“${item.title}” was posted, but its screenshots were not: ${error.message}`;
          this.load();
        } else this.formError = error.message;
      } finally {
        this.busy = false;
      }
    },
    async restore(item) {
      await this.act(() => post(`/feedback/${item.id}/restore`), `“${item.title}” restored.`);
    },
    async removeForGood(item) {
      if (!confirm(`Delete “${item.title}” permanently, with its replies and screenshots? This cannot be undone.`)) return;
      await this.act(() => del(`/feedback/${item.id}/permanent`), (r) => `“${item.title}” deleted permanently (${r.feedback_attachments} screenshot(s), ${r.feedback_replies} reply(ies)).`);
    },
    async act(work, message) {
      this.busy = true;
      this.error = "";
      try {
        const result = await work();
        this.notice = typeof message === "function" ? message(result) : message;
        await this.load();
      } catch (error) {
        this.error = error.message;
      } finally {
        this.busy = false;
      }
    },
  };
}

export function feedbackItem() {
  return {
    replyPicker: screenshotPicker(), // screenshots for a reply
    addPicker: screenshotPicker(), // screenshots added to the item later
    KINDS,
    STATES,
    kindWord,
    stateWord,
    stateClass,
    item: null,
    loading: true,
    error: "",
    notice: "",
    undo: null, // {label, run}: the last soft delete, undone by one click
    busy: false,
    thumbs: {}, // attachment id -> object URL of its thumbnail
    viewer: null, // {url, name}: a screenshot shown full size
    reply: "",
    replyError: "",
    editing: false,
    edit: { title: "", description: "" },
    addError: "",
    init() {
      this.load();
      this.$watch("$store.route.feedbackId", () => this.$store.route.page === "feedback-item" && this.load());
    },
    destroy() {
      this.dropImages();
      this.replyPicker.clearPicked();
      this.addPicker.clearPicked();
    },
    path(suffix = "") {
      return `/feedback/${this.$store.route.feedbackId}${suffix}`;
    },
    async load() {
      this.loading = !this.item || this.item.id !== this.$store.route.feedbackId;
      this.error = "";
      try {
        [this.item] = await Promise.all([get(this.path()), this.$store.session.ready]);
        this.loadThumbnails();
      } catch (error) {
        this.error = error.message;
        this.item = null;
      } finally {
        this.loading = false;
      }
    },
    allAttachments() {
      if (!this.item) return [];
      return [...this.item.attachment_list, ...this.item.reply_list.flatMap((r) => r.attachments)];
    },
    async loadThumbnails() {
      for (const attachment of this.allAttachments()) {
        if (this.thumbs[attachment.id]) continue;
        try {
          const blob = await fetchBlob(this.path(`/attachments/${attachment.id}/thumbnail`));
          this.thumbs = { ...this.thumbs, [attachment.id]: URL.createObjectURL(blob) };
        } catch {
          /* a thumbnail that cannot load leaves its name showing */
        }
      }
    },
    async open(attachment) {
      try {
        const blob = await fetchBlob(this.path(`/attachments/${attachment.id}`));
        const type = blob.type.split(";")[0].trim(); // the host may add "; charset=…"
        if (!IMAGE_TYPES.includes(type)) throw new Error("The server did not answer with an image.");
        this.closeViewer();
        this.viewer = { url: URL.createObjectURL(new Blob([blob], { type })), name: attachment.file_name, width: attachment.width, height: attachment.height };
        this.$nextTick(() => document.getElementById("fb-viewer-close")?.focus());
      } catch (error) {
        this.error = error.message;
      }
    },
    closeViewer() {
      if (this.viewer) URL.revokeObjectURL(this.viewer.url);
      this.viewer = null;
    },
    dropImages() {
      for (const url of Object.values(this.thumbs)) URL.revokeObjectURL(url);
      this.thumbs = {};
      this.closeViewer();
    },
    async toggleVote() {
      try {
        Object.assign(this.item, this.item.voted ? await del(this.path("/vote")) : await put(this.path("/vote")));
      } catch (error) {
        this.error = error.message;
      }
    },
    async setStatus(status) {
      await this.act(() => patch(this.path(), { status }), `Status set to ${stateWord(status)}.`);
    },
    startEdit() {
      this.edit = { title: this.item.title, description: this.item.description };
      this.editing = true;
    },
    async saveEdit() {
      const saved = await this.act(() => patch(this.path(), { title: this.edit.title.trim(), description: this.edit.description.trim() }), "Saved.");
      if (saved !== null) this.editing = false;
    },
    async sendReply() {
      this.replyError = this.replyPicker.pickProblem();
      if (this.replyError) return;
      this.busy = true;
      let reply = null;
      try {
        reply = await post(this.path("/replies"), { body: this.reply.trim() });
        if (this.replyPicker.chosen.length) await upload(this.path(`/replies/${reply.id}/attachments`), this.replyPicker.files());
        this.reply = "";
        this.replyPicker.clearPicked();
      } catch (error) {
        this.replyError = reply ? `The reply was posted, but its screenshots were not: ${error.message}` : error.message;
      } finally {
        this.busy = false;
        if (reply) await this.load();
      }
    },
    async addScreenshots() {
      this.addError = this.addPicker.pickProblem();
      if (this.addError || !this.addPicker.chosen.length) return;
      const sent = await this.act(() => upload(this.path("/attachments"), this.addPicker.files()), (r) => `${r.attachments.length} screenshot(s) added.`);
      if (sent !== null) this.addPicker.clearPicked();
      else this.addError = this.error;
    },
    // Soft delete (Admin): the notice offers the undo; an admin still sees what is deleted.
    async remove(suffix, label) {
      const done = await this.act(() => del(this.path(suffix)), `${label} deleted.`);
      if (done !== null) this.undo = { label, suffix };
    },
    async restore(suffix, label) {
      await this.act(() => post(this.path(`${suffix}/restore`)), `${label} restored.`);
      this.undo = null;
    },
    async removeForGood(suffix, label) {
      if (!confirm(`Delete ${label.toLowerCase()} permanently? This cannot be undone.`)) return;
      const removed = await this.act(() => del(this.path(`${suffix}/permanent`)), (r) => `${label} deleted permanently (${r.feedback_attachments} screenshot(s) removed).`);
      if (removed !== null && !suffix) navigate("/feedback", {});
    },
    async act(work, message) {
      this.busy = true;
      this.error = "";
      this.notice = "";
      try {
        const result = await work();
        this.notice = typeof message === "function" ? message(result) : message;
        await this.load();
        return result ?? true;
      } catch (error) {
        this.error = error.message;
        return null;
      } finally {
        this.busy = false;
      }
    },
  };
}
