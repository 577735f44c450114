// x-picker: a search-as-you-type combobox over the API (customers or jobs), so a form never asks
// for a numeric id and 2,000 customers are as easy as 20: the server searches, the first ten show.
//
//   <input id="ov-job" class="form-control" x-picker="{kind: 'jobs'}" @picked="form.job_id = $event.detail.id">
//   x-picker="{kind: 'customers', initial: suggested}"  preselects {id, name} (and announces it as picked),
//   also when `suggested` arrives after the form opened, unless the operator has typed or picked by then
//
// Keys: type to search, ↓/↑ move through the results, Enter picks, Escape closes. Picking
// dispatches `picked` with {id, label, item}; clearing the text dispatches `picked` with null.
import { get, query } from "./api.js";

const DEBOUNCE_MS = 120;
const SHOWN = 10;
const KINDS = {
  customers: {
    path: (text) => `/customers${query({ search: text, limit: SHOWN, active: true })}`,
    label: (c) => c.name,
  },
  jobs: {
    path: (text) => `/jobs${query({ search: text, limit: SHOWN })}`,
    label: (j) => `${j.customer_name} · ${j.job_name}`,
  },
};
let counter = 0;

class Picker {
  constructor(input, kind) {
    this.input = input;
    this.kind = KINDS[kind];
    this.chosenByHand = false;
    this.preselected = null;
    this.items = [];
    this.active = -1;
    this.timer = null;
    this.controller = null;
    this.list = document.createElement("ul");
    this.list.className = "picker-list list-group position-absolute shadow-sm";
    this.list.id = `${input.id || `picker-${++counter}`}-options`;
    this.list.setAttribute("role", "listbox");
    this.list.hidden = true;
    const wrapper = document.createElement("div");
    wrapper.className = "picker position-relative";
    input.replaceWith(wrapper);
    wrapper.append(input, this.list);
    Object.assign(input, { autocomplete: "off", spellcheck: false });
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.placeholder ||= kind === "jobs" ? "Type a job or customer name" : "Type a customer name";
    input.addEventListener("input", () => this.typed(true));
    input.addEventListener("keydown", (event) => this.key(event));
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    input.addEventListener("focus", () => !this.input.value && this.typed(false));
    this.list.addEventListener("mousedown", (event) => event.preventDefault()); // keep the focus
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.pick(Number(option.dataset.index));
    });
  }

  preselect(item) {
    if (this.chosenByHand || !item?.id || item.id === this.preselected) return;
    this.preselected = item.id;
    this.input.value = item.name || item.label || "";
    this.announce({ id: item.id, label: this.input.value, item });
  }

  typed(byHand) {
    clearTimeout(this.timer);
    if (byHand) this.chosenByHand = true;
    if (byHand && !this.input.value.trim()) this.announce(null); // cleared by the operator, not on focus
    this.timer = setTimeout(() => this.search(this.input.value.trim()), DEBOUNCE_MS);
  }

  async search(text) {
    this.controller?.abort(); // only the newest answer counts
    this.controller = new AbortController();
    try {
      const data = await get(this.kind.path(text), { signal: this.controller.signal });
      this.show(data.items);
    } catch (error) {
      if (error.name !== "AbortError") this.show([], error.message);
    }
  }

  show(items, problem = "") {
    this.items = items;
    this.active = items.length ? 0 : -1;
    this.list.replaceChildren(
      ...items.map((item, index) => {
        const option = document.createElement("li");
        option.className = "list-group-item list-group-item-action py-1 small";
        option.id = `${this.list.id}-${index}`;
        option.dataset.index = String(index);
        option.setAttribute("role", "option");
        option.textContent = this.kind.label(item);
        return option;
      }),
    );
    if (!items.length) {
      const empty = document.createElement("li");
      empty.className = "list-group-item py-1 small text-body-secondary";
      empty.textContent = problem || "Nothing matches.";
      this.list.append(empty);
    }
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.highlight();
  }

  highlight() {
    for (const option of this.list.querySelectorAll("[role=option]")) {
      const on = Number(option.dataset.index) === this.active;
      option.classList.toggle("active", on);
      option.setAttribute("aria-selected", String(on));
    }
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `${this.list.id}-${this.active}`);
    else this.input.removeAttribute("aria-activedescendant");
  }

  key(event) {
    const open = !this.list.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) return this.typed(false);
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = Math.max(0, Math.min(this.items.length - 1, this.active + step));
      this.highlight();
    } else if (event.key === "Enter" && open && this.active >= 0) {
      event.preventDefault(); // picking, not submitting the form
      this.pick(this.active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    }
  }

  pick(index) {
    const item = this.items[index];
    if (!item) return;
    const label = this.kind.label(item);
    this.chosenByHand = true;
    this.input.value = label;
    this.close();
    this.announce({ id: item.id, label, item });
  }

  announce(detail) {
    this.input.dispatchEvent(new CustomEvent("picked", { detail, bubbles: true }));
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
  }
}

export function pickerDirective(el, { expression }, { evaluateLater, effect }) {
  const options = evaluateLater(expression);
  // after Alpine has bound the element's own listeners (@picked), so the first announcement lands
  queueMicrotask(() => {
    let picker = null;
    // re-run when `initial` changes: a suggestion may load after the form is on screen
    effect(() =>
      options(({ kind, initial }) => {
        picker ??= new Picker(el, kind);
        if (initial) picker.preselect(initial);
      }),
    );
  });
}
