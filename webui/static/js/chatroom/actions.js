// Provides the work on a conversation: assign, release, transfer with a note, status, labels.
import { get, post } from "./api.js";
import { config, t } from "./config.js";
import { byId, el } from "./dom.js";
import { report, say } from "./notice.js";
import { emit, state } from "./state.js";

let divisions = [];

function path(action) {
  return "/api/conversations/" + Number(state.conversationId) + "/" + action;
}

async function act(action, body, done) {
  if (!state.conversationId) return;
  try {
    await post(path(action), body);
    say(done);
    emit("changed", state.conversationId);
  } catch (error) {
    report(error);
  }
}

export function assignToMe() {
  const c = state.conversation;
  if (!c || c.assignee_id === config.user_id) return;
  act("assign", { assignee_id: config.user_id }, t("assigned_to_you"));
}

export function resolve() {
  const c = state.conversation;
  if (!c || c.status === "resolved") return;
  act("status", { status: "resolved" }, t("resolved"));
}

async function openAssign() {
  const c = state.conversation;
  const answer = await get("/api/agents");
  const seen = new Set();
  const people = answer.agents.filter((a) => a.division_id === c.division_id && !seen.has(a.id)
    && seen.add(a.id));
  byId("assign-to").replaceChildren(el("option", { value: "" }, t("nobody")),
    ...people.map((a) => el("option", { value: a.id, selected: a.id === c.assignee_id }, a.name)));
  byId("assign-dialog").showModal();
}

function openTransfer() {
  const c = state.conversation;
  byId("transfer-division").replaceChildren(...divisions.filter((d) => d.id !== c.division_id)
    .map((d) => el("option", { value: d.id }, d.name)));
  byId("transfer-note").value = "";
  byId("transfer-dialog").showModal();
}

function openLabels() {
  byId("labels-input").value = state.conversation.labels.join(", ");
  byId("labels-dialog").showModal();
}

function onSubmit(formId, dialogId, handler) {
  byId(formId).addEventListener("submit", (event) => {
    event.preventDefault();
    byId(dialogId).close();
    handler();
  });
}

export function startActions(divisionList) {
  divisions = divisionList || [];
  byId("act-assign-me").addEventListener("click", assignToMe);
  byId("act-release").addEventListener("click",
    () => act("assign", { assignee_id: null }, t("released")));
  byId("act-assign").addEventListener("click", () => openAssign().catch(report));
  byId("act-transfer").addEventListener("click", openTransfer);
  byId("act-labels").addEventListener("click", openLabels);
  byId("act-resolve").addEventListener("click", resolve);
  byId("act-pending").addEventListener("click",
    () => act("status", { status: "pending" }, t("status_pending")));
  byId("act-reopen").addEventListener("click",
    () => act("status", { status: "open" }, t("reopened")));
  onSubmit("assign-form", "assign-dialog", () => {
    const chosen = byId("assign-to").value;
    act("assign", { assignee_id: chosen ? Number(chosen) : null }, t("assigned"));
  });
  onSubmit("transfer-form", "transfer-dialog", () => {
    const target = Number(byId("transfer-division").value);
    act("transfer", { division_id: target, note: byId("transfer-note").value },
        t("transferred"));
  });
  onSubmit("labels-form", "labels-dialog", () => {
    const names = byId("labels-input").value.split(",").map((s) => s.trim()).filter(Boolean);
    act("labels", { labels: names }, t("labels_saved"));
  });
  for (const button of document.querySelectorAll("dialog .cancel")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
}
