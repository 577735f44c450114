// Reports: a period (last month unless chosen), every customer worst first with its weekly trend,
// one customer's report on screen with PDF/CSV downloads, its recipients, the mail's preview and
// "send now". The page's state lives in the hash: #/reports?from=…&to=…&customer=12
import { fetchFile, get, post, put, query } from "../api.js";
import { hashFor } from "../router.js";

const OVERVIEW_PAGE = 50;

export function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)} %`;
}

export function rateClass(rate) {
  if (rate === null || rate === undefined) return "text-bg-light border";
  if (rate >= 0.95) return "text-bg-success";
  if (rate >= 0.8) return "text-bg-warning";
  return "text-bg-danger";
}

export function reports() {
  return {
    loading: true,
    error: "",
    notice: "",
    busy: false,
    period: null,
    items: [],
    page: { offset: 0, limit: OVERVIEW_PAGE, has_more: false },
    offset: 0,
    report: null,
    reportError: "",
    recipients: "",
    recipientsError: "",
    preview: null,
    percent,
    rateClass,
    init() {
      this.load();
      this.$watch("$store.route.key", () => this.$store.route.page === "reports" && this.load());
    },
    params() {
      const { from, to } = this.$store.route.params;
      return { from, to };
    },
    customerId() {
      return Number(this.$store.route.params.customer) || null;
    },
    go(changes) {
      location.hash = hashFor("/reports", { ...this.$store.route.params, ...changes });
    },
    choose(form) {
      this.offset = 0;
      this.go({ from: form.from.value, to: form.to.value });
    },
    lastMonth() {
      this.offset = 0;
      this.go({ from: "", to: "" }); // the API's default: the month before this one
    },
    async load() {
      this.loading = true;
      this.error = "";
      try {
        const data = await get("/reports/overview" + query({ ...this.params(), offset: this.offset || "", limit: OVERVIEW_PAGE }));
        this.period = data.period;
        this.items = data.items;
        this.page = data.page;
      } catch (error) {
        this.error = error.message;
      } finally {
        this.loading = false;
      }
      await this.loadReport();
    },
    pageTo(offset) {
      this.offset = Math.max(0, offset);
      this.load();
    },
    async loadReport() {
      this.report = null;
      this.preview = null;
      this.reportError = "";
      this.recipientsError = "";
      const id = this.customerId();
      if (!id) return;
      try {
        const [report, recipients] = await Promise.all([
          get(`/reports/customers/${id}` + query(this.params())),
          get(`/reports/customers/${id}/recipients`),
        ]);
        this.report = report;
        this.recipients = recipients.addresses.join(", ");
      } catch (error) {
        this.reportError = error.message;
      }
    },
    customerHash(customerId) {
      return hashFor("/reports", { ...this.$store.route.params, customer: customerId });
    },
    weekBars(weeks) {
      return (weeks || []).map((w) => ({
        key: w.week_start,
        height: Math.max(2, Math.round((w.success_rate ?? 0) * 24)),
        title: `Week of ${w.week_start}: ${percent(w.success_rate)} (${w.successful_runs} of ${w.expected_runs})`,
        tone: rateClass(w.success_rate).replace("text-bg-", "bg-").split(" ")[0],
      }));
    },
    async download(format) {
      this.reportError = "";
      try {
        await fetchFile(`/reports/customers/${this.customerId()}` + query({ ...this.params(), format }));
      } catch (error) {
        this.reportError = error.message;
      }
    },
    month() {
      return this.report ? this.report.period.from.slice(0, 7) : "";
    },
    async saveRecipients() {
      this.busy = true;
      this.recipientsError = "";
      this.notice = "";
      try {
        const addresses = this.recipients.split(/[\s,;]+/).filter(Boolean);
        const saved = await put(`/reports/customers/${this.customerId()}/recipients`, { addresses });
        this.recipients = saved.addresses.join(", ");
        this.notice = saved.addresses.length ? "Recipients saved." : "Recipients removed: no monthly mail.";
      } catch (error) {
        this.recipientsError = error.message;
      } finally {
        this.busy = false;
      }
    },
    async showPreview() {
      this.reportError = "";
      try {
        this.preview = await get(`/reports/customers/${this.customerId()}/delivery` + query({ month: this.month() }));
      } catch (error) {
        this.reportError = error.message;
      }
    },
    async sendNow() {
      if (!window.confirm(`Send the report for ${this.month()} to its recipients now?`)) return;
      this.busy = true;
      this.notice = "";
      this.reportError = "";
      try {
        const sent = await post(`/reports/customers/${this.customerId()}/send`, { month: this.month() });
        this.notice = `Report for ${this.month()} sent to ${sent.recipients.join(", ")}.`;
        await this.showPreview();
      } catch (error) {
        this.reportError = error.message;
      } finally {
        this.busy = false;
      }
    },
  };
}
