// Provides the customer side panel: masked phone (revealed with a reason), labels, consent, history.
import { get, post } from "./api.js";
import { can, t } from "./config.js";
import { byId, el, show } from "./dom.js";
import { when } from "./format.js";
import { report, say } from "./notice.js";
import { emit, state } from "./state.js";

const panel = byId("panel");
let customerId = null;
let phoneFor = null; // whose phone the panel shows (masked, or revealed)
let pendingReason = null;

// Asks why a masked value must be seen; resolves to the reason, or null when cancelled.
export function askReason() {
  const dialog = byId("reason-dialog");
  byId("reason-text").value = "";
  dialog.showModal();
  return new Promise((resolve) => { pendingReason = resolve; });
}

function settleReason(value) {
  if (pendingReason) pendingReason(value);
  pendingReason = null;
}

// A word from the strings, or the key's own value when this version has no word for it.
function word(prefix, value) {
  const found = t(prefix + value);
  return found.startsWith(prefix) ? value : found;
}

// Each purpose's state (derived by the server from the ledger): "Service: agreed".
const PURPOSES = ["service", "marketing"]; // shown in this order; any other one after them

function consentStates(consent) {
  const rank = (p) => (PURPOSES.includes(p) ? PURPOSES.indexOf(p) : PURPOSES.length);
  return Object.keys(consent).sort((a, b) => rank(a) - rank(b)).map((purpose) =>
    el("div", {}, word("purpose_", purpose), ": ", word("consent_", consent[purpose])));
}

// One ledger entry: when, for what, what happened, and where it came from.
function consentLine(entry) {
  if (entry.event === "notice_shown") {
    return el("li", {}, when(entry.at), " · ", t("consent_notice", { version: entry.notice_version }),
              " · ", word("source_", entry.source));
  }
  return el("li", {}, when(entry.at), " · ", word("purpose_", entry.purpose), " · ",
            word("consent_", entry.event), " · ", word("source_", entry.source));
}

async function load(id) {
  const found = await get("/api/customers/" + Number(id));
  if (customerId !== id) return;
  byId("panel-name").textContent = found.name || "—";
  if (phoneFor !== id) {
    phoneFor = id;
    byId("panel-phone").textContent = found.phone;
    show(byId("panel-phone-revealed"), false);
    show(byId("panel-reveal"), can("customer.reveal_phone"));
  }
  const labels = byId("panel-labels");
  labels.replaceChildren(...found.labels.map((name) => el("span", { class: "label" }, name)));
  if (!found.labels.length) labels.textContent = "—";
  byId("panel-consent").replaceChildren(...consentStates(found.consent));
  const history = found.consent_history.slice().reverse(); // newest first
  byId("panel-consent-history").replaceChildren(...history.map(consentLine));
  if (!history.length) byId("panel-consent-history").textContent = t("consent_none");
  byId("panel-history").replaceChildren(...found.conversations.map((c) =>
    el("li", {}, el("button", { type: "button", class: "link", "aria-current":
                                c.id === state.conversationId ? "true" : null,
                                onclick: () => emit("open", c.id) },
      when(c.last_message_at), " · ", c.division || t("no_division"), " · ",
      t("status_" + c.status)))));
}

// Records what the customer asked for in the chat (audited on the server).
async function recordMarketing(granted) {
  if (!customerId) return;
  const id = customerId;
  await post("/api/customers/" + Number(id) + "/consent", { purpose: "marketing", granted });
  say(t("consent_recorded"));
  if (customerId === id) await load(id);
}

// Records a request the customer makes under UU PDP; the DPO answers it (audited).
async function recordPrivacyRequest() {
  if (!customerId) return;
  const kind = byId("panel-privacy-kind").value;
  await post("/api/customers/" + Number(customerId) + "/privacy-requests", { kind });
  say(t("privacy_recorded"));
}

async function revealPhone() {
  const reason = await askReason();
  if (!reason || !customerId) return;
  const answer = await post("/api/customers/" + Number(customerId) + "/reveal-phone",
                            { reason });
  byId("panel-phone").textContent = answer.phone;
  show(byId("panel-phone-revealed"), true);
  show(byId("panel-reveal"), false);
}

// Shows the panel's customer (a new one, or the same one refreshed).
export function showCustomer(id) {
  if (!can("customer.read") || !id) return;
  customerId = id;
  if (!panel.hidden || window.matchMedia("(min-width: 1200px)").matches) {
    panel.hidden = false;
    load(id).catch(report);
  }
}

export function togglePanel() {
  panel.hidden = !panel.hidden;
  if (!panel.hidden && customerId) load(customerId).catch(report);
}

export function clearPanel() {
  customerId = null;
  phoneFor = null;
  panel.hidden = true;
}

export function startPanel() {
  byId("panel-close").addEventListener("click", () => { panel.hidden = true; });
  byId("act-panel").addEventListener("click", togglePanel);
  byId("panel-reveal").addEventListener("click", () => revealPhone().catch(report));
  byId("panel-marketing-yes").addEventListener("click",
                                               () => recordMarketing(true).catch(report));
  byId("panel-marketing-no").addEventListener("click",
                                              () => recordMarketing(false).catch(report));
  byId("panel-privacy").addEventListener("submit", (event) => {
    event.preventDefault();
    recordPrivacyRequest().catch(report);
  });
  const dialog = byId("reason-dialog");
  byId("reason-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = byId("reason-text").value.trim();
    dialog.close();
    settleReason(reason);
  });
  dialog.addEventListener("close", () => settleReason(null));
}
