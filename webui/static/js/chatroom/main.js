// Provides the Chatroom page's wiring: opening conversations, live refreshes, the phone layout.
import { assignToMe, resolve, startActions } from "./actions.js";
import { get } from "./api.js";
import { arrange, checkWindow, focusReply, resetCompose, startCompose } from "./compose.js";
import { config, t } from "./config.js";
import { byId } from "./dom.js";
import { startKeys } from "./keys.js";
import { markRead, neighbour, reload, render, selectedButton, startList } from "./list.js";
import { startLive } from "./live.js";
import { report } from "./notice.js";
import { askReason, clearPanel, showCustomer, startPanel } from "./panel.js";
import { on, state } from "./state.js";
import { closeThread, loadOlder, openThread, useReasonDialog } from "./thread.js";

const room = byId("room");

async function open(id, refresh = false) {
  if (!refresh) {
    state.conversationId = id;
    resetCompose();
    history.replaceState(null, "", "#" + Number(id)); // ids only in URLs
    room.classList.add("reading");
    render();
  }
  try {
    const convo = await openThread(id, refresh);
    if (!convo) return;
    arrange();
    markRead(id);
    if (!refresh) showCustomer(convo.customer_id);
  } catch (error) {
    if (error.status === 404) gone(); // moved out of reach: transferred, taken, or never ours
    else report(error);
  }
}

function gone() {
  state.conversationId = null;
  closeThread();
  clearPanel();
  history.replaceState(null, "", location.pathname);
  render();
  byId("thread-empty").textContent = t("gone");
}

function back() {
  room.classList.remove("reading");
  const button = selectedButton();
  if (button) button.focus();
}

async function counts() {
  const c = await get("/api/counts");
  byId("counts").textContent = t("counts", { open: c.open, unassigned: c.unassigned,
                                             mine: c.mine });
}

function step(direction) {
  const id = neighbour(direction);
  if (id === null) return;
  open(id);
  const button = selectedButton();
  if (button) button.focus();
}

async function start() {
  useReasonDialog(askReason);
  startCompose();
  startPanel();
  for (const node of document.querySelectorAll("[data-needs]")) {
    if (!config.permissions.includes(node.dataset.needs)) node.hidden = true;
  }
  const divisions = await startList(report);
  startActions(await divisions);
  on("open", (id) => open(id));
  on("changed", (id) => {
    if (id === state.conversationId) open(id, true);
    reload().catch(report);
    counts().catch(() => {});
  });
  on("resync", () => {
    if (state.conversationId !== null) open(state.conversationId, true);
    reload().catch(report);
  });
  on("changes", (changes) => {
    if (state.conversationId !== null && changes.has(state.conversationId)) {
      open(state.conversationId, true);
    }
    reload().catch(report);
    counts().catch(() => {});
  });
  byId("load-older").addEventListener("click", () => loadOlder().catch(report));
  byId("back-to-list").addEventListener("click", back);
  startKeys({
    next: () => step(1), previous: () => step(-1), reply: focusReply, assign: assignToMe,
    resolve, back, search: () => byId("search-q").focus(),
  });
  startLive();
  setInterval(checkWindow, 30000);
  counts().catch(() => {});
  const fromHash = () => {
    const wanted = Number(location.hash.slice(1));
    if (wanted > 0 && wanted !== state.conversationId) open(wanted);
  };
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.body.dataset.ready = "true"; // for tests: every listener is in place
}

start().catch(report);
