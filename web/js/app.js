// Start-up: config.json (absent locally: auth off), sign-in, the stores every page reads
// (route, session, pipeline status), the page components, then Alpine.
import Alpine from "../vendor/alpine.esm.min.js";
import { get, setApiBase } from "./api.js";
import { authEnabled, signIn, signOut } from "./auth.js";
import * as format from "./format.js";
import { runChecks } from "./pages/run-checks.js";
import { runDetail } from "./pages/run-detail.js";
import { auditLog, customers, dailyJobs, inbox, jobDetail, jobs, mailView, notes, overrides, parsers } from "./pages/lists.js";
import { reports } from "./pages/reports.js";
import { ruleEditor } from "./pages/parsing-rules.js";
import { autotaskSettings, connectwiseSettings, psaSettings } from "./pages/settings.js";
import { feedbackItem, feedbackList } from "./pages/feedback.js";
import { pickerDirective } from "./picker.js";
import { parseHash } from "./router.js";

const ROLE_RANK = { Viewer: 1, Operator: 2, Admin: 3 };
const STATUS_REFRESH_MS = 60000;

async function loadConfig() {
  try {
    const response = await fetch("config.json"); // answered by the preload in index.html
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

function session(authOn) {
  return {
    authOn,
    me: null,
    error: "",
    get rank() {
      return Math.max(0, ...((this.me && this.me.roles) || []).map((role) => ROLE_RANK[role] || 0));
    },
    can(role) {
      return this.rank >= ROLE_RANK[role];
    },
    get psaLabel() {
      return (this.me && this.me.psa_label) || "PSA"; // the active PSA's name
    },
    async load() {
      try {
        this.me = await get("/me");
        format.setTimeZone(this.me.timezone); // before any page shows a time
        this.error = "";
      } catch (error) {
        this.error = error.message;
      }
    },
    signOut,
  };
}

function pipeline() {
  return {
    status: null,
    error: "",
    available: true,
    loaded: false, // the first answer (or failure) is in: the banner will not push the page down any more
    attention() {
      return (this.status && this.status.attention) || [];
    },
    async load() {
      if (!this.available) return;
      try {
        this.status = await get("/status");
        this.error = "";
      } catch (error) {
        if (error.status === 404 && !error.code) this.available = false;
        else this.error = `Pipeline status unavailable: ${error.message}`;
      } finally {
        this.loaded = true;
      }
    },
  };
}

// the skip link's handler lives here: the Content-Security-Policy allows no inline script
document.querySelector(".skip-link")?.addEventListener("click", () => document.getElementById("main")?.focus());

async function start() {
  const config = await loadConfig();
  const authOn = authEnabled(config);
  if (authOn) {
    const account = await signIn(config);
    if (!account) return; // on the way to the sign-in page
  }
  setApiBase(config.apiBaseUrl);

  Alpine.store("route", {
    ...parseHash(location.hash),
    // the navbar entry a page belongs to: a job's page is under Jobs, a run under Run Checks, …
    section() {
      return { job: "jobs", run: "run-checks", mail: "inbox" }[this.page] || this.page;
    },
  });
  Alpine.store("session", session(authOn));
  Alpine.store("pipeline", pipeline());
  Alpine.store("fmt", { ...format });
  window.addEventListener("hashchange", () => {
    Object.assign(Alpine.store("route"), { runId: undefined, jobId: undefined, mailId: undefined, ruleId: undefined }, parseHash(location.hash));
    document.getElementById("main")?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
    document.querySelector(".navbar-collapse.show")?.classList.remove("show");
  });

  Alpine.data("runChecks", runChecks);
  Alpine.data("runDetail", runDetail);
  Alpine.data("jobs", jobs);
  Alpine.data("jobDetail", jobDetail);
  Alpine.data("dailyJobs", dailyJobs);
  Alpine.data("inbox", inbox);
  Alpine.data("mailView", mailView);
  Alpine.data("customers", customers);
  Alpine.data("overrides", overrides);
  Alpine.data("notes", notes);
  Alpine.data("parsers", parsers);
  Alpine.data("ruleEditor", ruleEditor);
  Alpine.data("auditLog", auditLog);
  Alpine.data("autotaskSettings", autotaskSettings);
  Alpine.data("connectwiseSettings", connectwiseSettings);
  Alpine.data("psaSettings", psaSettings);
  Alpine.data("reports", reports);
  Alpine.data("feedbackList", feedbackList);
  Alpine.data("feedbackItem", feedbackItem);

  Alpine.directive("picker", pickerDirective);

  const sessionStore = Alpine.store("session");
  sessionStore.ready = sessionStore.load(); // menus fill in when it answers; pages do not wait
  Alpine.start();
  // the page's own data first: the status banner asks when the browser is idle
  (window.requestIdleCallback || setTimeout)(() => Alpine.store("pipeline").load(), { timeout: 1500 });
  setInterval(() => Alpine.store("pipeline").load(), STATUS_REFRESH_MS);
}

start();
