// Provides the open conversation: its header, messages with ticks, private notes, older pages.
import { get, post, quietly } from "./api.js";
import { can, config, t } from "./config.js";
import { byId, el, show } from "./dom.js";
import { when, whenFull, windowLeft } from "./format.js";
import { report } from "./notice.js";
import { state } from "./state.js";

const messages = byId("messages");
const scroller = byId("scroller");
let lines = []; // messages shown, oldest first
let notes = [];
let hasMore = false;

const TICKS = {
  queued: ["…", "tick_queued"], sent: ["✓", "tick_sent"], delivered: ["✓✓", "tick_delivered"],
  read: ["✓✓", "tick_read"], failed: ["!", "tick_failed"],
};
const MEDIA = new Set(["image", "sticker"]);
const FILES = new Set(["document", "audio", "video"]);
const SAID = { location: "kind_location", contacts: "kind_contacts",
               interactive: "kind_choice", button: "kind_choice", reaction: "kind_reaction",
               template: "kind_template", number_changed: "kind_number_changed" };

function tick(m) {
  const [mark, word] = TICKS[m.status] || ["", ""];
  if (!mark) return null;
  return el("span", { class: "tick tick-" + m.status, dataset: { status: m.status },
                      title: t(word), "aria-label": t(word) }, mark);
}

function body(m) {
  const parts = [];
  if (MEDIA.has(m.kind) && m.media_id) {
    parts.push(el("img", { class: "picture", src: "/api/media/" + Number(m.media_id),
                           alt: m.text || t("kind_" + m.kind), loading: "lazy" }));
  } else if (FILES.has(m.kind) && m.media_id) {
    parts.push(el("a", { class: "file", href: "/api/media/" + Number(m.media_id),
                         download: "" }, t("download_" + m.kind)));
  } else if (MEDIA.has(m.kind) || FILES.has(m.kind)) {
    parts.push(el("span", { class: "pending-media" }, t("media_waiting")));
  }
  if (SAID[m.kind]) parts.push(el("span", { class: "kind" }, t(SAID[m.kind])));
  if (m.text) parts.push(el("span", { class: "text" }, m.text));
  else if (!parts.length) parts.push(el("span", { class: "kind" }, t("kind_unknown")));
  return parts;
}

function revealButton(m) {
  if (!can("message.reveal") || !m.text || !m.text.includes("*") || m.revealed) return null;
  return el("button", { type: "button", class: "link reveal",
                        onclick: () => revealMessage(m) }, t("reveal"));
}

function messageItem(m) {
  return el("li", { class: "message " + (m.direction === "in" ? "in" : "out"),
                    dataset: { id: m.id, kind: m.kind } },
    el("div", { class: "bubble" },
      m.automated ? el("span", { class: "automated" }, t("automated", {
        why: t("auto_" + m.automated) === "auto_" + m.automated ? m.automated
          : t("auto_" + m.automated) })) : null,
      body(m),
      m.revealed ? el("span", { class: "revealed" }, t("revealed")) : null,
      m.status === "failed" && m.failure
        ? el("p", { class: "failure", role: "note" }, t("not_sent", { why: m.failure })) : null,
      el("span", { class: "stamp" },
        el("time", { title: whenFull(m.at) }, when(m.at)), m.direction === "out" ? tick(m) : null,
        revealButton(m))));
}

function noteItem(n) {
  return el("li", { class: "note", dataset: { note: n.id } },
    el("div", { class: "bubble" },
      el("span", { class: "kind" }, n.author_id === config.user_id ? t("note_mine") : t("note")),
      el("span", { class: "text" }, n.text),
      el("span", { class: "stamp" }, el("time", { title: whenFull(n.at) }, when(n.at)))));
}

function render(stayAtBottom) {
  const before = scroller.scrollHeight - scroller.scrollTop;
  const items = lines.map((m) => ({ at: m.at, node: () => messageItem(m) }))
    .concat(notes.map((n) => ({ at: n.at, node: () => noteItem(n) })))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  messages.replaceChildren(...items.map((item) => item.node()));
  show(byId("load-older"), hasMore);
  scroller.scrollTop = stayAtBottom ? scroller.scrollHeight : scroller.scrollHeight - before;
}

function header(c) {
  byId("thread-name").textContent = c.customer_name || c.phone;
  byId("thread-meta").textContent = [c.phone, state.severalNumbers ? c.number : null,
    c.division || t("no_division"),
    t("status_" + c.status), c.assignee ? t("assigned_to", { name: c.assignee }) : t("unassigned"),
    windowLeft(c.window_seconds_left)].filter(Boolean).join(" · ");
  const labels = byId("thread-labels");
  labels.replaceChildren(...c.labels.map((name) => el("span", { class: "label" }, name)));
  const mine = c.assignee_id === config.user_id;
  const isAgent = config.role === "agent";
  show(byId("act-assign-me"), can("conversation.assign") && !mine);
  show(byId("act-release"), can("conversation.assign") && mine);
  show(byId("act-assign"), can("conversation.assign") && !isAgent);
  show(byId("act-resolve"), can("conversation.reply") && c.status !== "resolved");
  show(byId("act-pending"), can("conversation.reply") && c.status === "open");
  show(byId("act-reopen"), can("conversation.reply") && c.status !== "open");
  byId("act-export").setAttribute("href", "/api/conversations/" + Number(c.id) + "/export");
}

// Shows conversation `id` fresh from the server; `refresh` keeps older pages and reveals.
export async function openThread(id, refresh = false) {
  const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const thread = await get("/api/conversations/" + Number(id));
  if (state.conversationId !== id) return null; // another one was opened meanwhile
  const kept = refresh ? lines : [];
  const revealed = new Map(kept.filter((m) => m.revealed).map((m) => [m.id, m.text]));
  for (const m of thread.messages) {
    if (revealed.has(m.id)) Object.assign(m, { text: revealed.get(m.id), revealed: true });
  }
  const first = thread.messages.length ? thread.messages[0].id : Infinity;
  const older = kept.filter((m) => m.id < first);
  lines = older.concat(thread.messages);
  notes = thread.notes;
  hasMore = older.length ? hasMore : thread.has_more;
  state.conversation = Object.assign(thread.conversation, {
    deadline: Date.now() + thread.conversation.window_seconds_left * 1000 });
  header(thread.conversation);
  show(byId("thread-empty"), false);
  show(byId("thread-body"), true);
  render(!refresh || nearBottom);
  const markRead = () => post("/api/conversations/" + Number(id) + "/read");
  (refresh ? quietly(markRead) : markRead()).catch(() => {});
  return thread.conversation;
}

export function closeThread() {
  lines = [];
  notes = [];
  state.conversation = null;
  show(byId("thread-body"), false);
  show(byId("thread-empty"), true);
}

export async function loadOlder() {
  if (!lines.length) return;
  const page = await get("/api/conversations/" + Number(state.conversationId),
                         { before: lines[0].id });
  lines = page.messages.concat(lines);
  hasMore = page.has_more;
  render(false);
}

let askReason = null; // set by the panel, which owns the reason dialog

export function useReasonDialog(ask) {
  askReason = ask;
}

async function revealMessage(m) {
  const reason = askReason ? await askReason() : null;
  if (!reason) return;
  try {
    const answer = await post("/api/messages/" + Number(m.id) + "/reveal", { reason });
    m.text = answer.text;
    m.revealed = true;
    render(false);
  } catch (error) {
    report(error);
  }
}
