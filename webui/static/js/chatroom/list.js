// Provides the inbox list: filters, search, paging by cursor, unread counts, the window's time left.
import { get, post } from "./api.js";
import { config, t } from "./config.js";
import { byId, el, show } from "./dom.js";
import { when, windowLeft } from "./format.js";
import { emit, on, state } from "./state.js";

const list = byId("conversation-list");
const filters = {
  show: byId("filter-show"), status: byId("filter-status"),
  division: byId("filter-division"), label: byId("filter-label"),
  number: byId("filter-number"),
};
let cursor = null;
let searching = false;
let loaded = []; // every row fetched, in order
const known = new Set(); // every conversation this page has listed: the others are new

function withDeadline(row) {
  return Object.assign(row, { deadline: Date.now() + row.window_seconds_left * 1000 });
}

function secondsLeft(row) {
  return Math.max(0, Math.round((row.deadline - Date.now()) / 1000));
}

// Labels go by id: a label's name (free text) never goes into a URL.
function query() {
  return { show: filters.show.value, status: filters.status.value,
           division: filters.division.value, label: filters.label.value,
           number: filters.number.value };
}

function keep(rows) {
  loaded = rows;
  state.rows = rows;
}

// The first page again; rows already shown below it (loaded with "more") stay.
export async function reload() {
  if (searching) return;
  const page = await get("/api/conversations", query());
  const fresh = page.conversations.map(withDeadline);
  const ids = new Set(fresh.map((row) => row.id));
  const older = cursor === null ? [] : loaded.filter((row) => !ids.has(row.id));
  keep(fresh.concat(older));
  if (cursor === null || older.length === 0) cursor = page.next;
  remember(loaded.map((r) => r.id));
  render();
}

export function remember(ids) {
  ids.forEach((id) => known.add(id));
}

export function isKnown(id) {
  return known.has(id);
}

async function loadMore() {
  if (!cursor) return;
  const page = await get("/api/conversations", Object.assign(query(), { before: cursor }));
  const ids = new Set(loaded.map((row) => row.id));
  keep(loaded.concat(page.conversations.map(withDeadline).filter((row) => !ids.has(row.id))));
  remember(loaded.map((r) => r.id));
  cursor = page.next;
  render();
}

async function search(text) {
  const found = await post("/api/search", { q: text });
  searching = true;
  keep(found.conversations.map(withDeadline));
  cursor = null;
  show(byId("search-state"), true);
  render();
}

async function clearSearch() {
  searching = false;
  byId("search-q").value = "";
  show(byId("search-state"), false);
  cursor = null;
  await reload();
}

function statusWord(status) {
  return t("status_" + status);
}

function row(c) {
  const selected = c.id === state.conversationId;
  const unread = selected ? 0 : c.unread; // the open one is being read
  const left = secondsLeft(c);
  return el("li", { class: "conversation" + (selected ? " selected" : ""),
                    dataset: { id: c.id, status: c.status } },
    el("button", { type: "button", class: "open", "aria-current": selected ? "true" : null,
                   onclick: () => emit("open", c.id) },
      el("span", { class: "name" }, c.customer_name || c.phone),
      el("time", { class: "time" }, when(c.last_message_at)),
      el("span", { class: "meta" },
        [...(state.severalNumbers ? [c.number] : []), c.division || t("no_division"),
         statusWord(c.status),
         c.assignee ? t("assigned_to", { name: c.assignee }) : t("unassigned")].join(" · ")),
      el("span", { class: "window" + (left === 0 ? " closed" : left < 3600 ? " closing" : "") },
        windowLeft(left)),
      c.labels.length ? el("span", { class: "labels" },
        c.labels.map((name) => el("span", { class: "label" }, name))) : null,
      unread ? el("span", { class: "unread", title: t("unread"),
                            "aria-label": t("unread_count", { n: unread }) },
                  String(unread)) : null));
}

export function render() {
  const focused = list.contains(document.activeElement)
    ? document.activeElement.closest("li").dataset.id : null;
  list.replaceChildren(...state.rows.map(row));
  if (focused) {
    const again = list.querySelector(`li[data-id="${Number(focused)}"] button`);
    if (again) again.focus();
  }
  show(byId("list-empty"), state.rows.length === 0);
  show(byId("load-more"), Boolean(cursor) && !searching);
}

export function markRead(id) {
  const found = state.rows.find((r) => r.id === id);
  if (found && found.unread) {
    found.unread = 0;
    render();
  }
}

// For j / k: the conversation after (or before) the open one.
export function neighbour(step) {
  if (state.rows.length === 0) return null;
  const at = state.rows.findIndex((r) => r.id === state.conversationId);
  if (at === -1) return state.rows[step > 0 ? 0 : state.rows.length - 1].id;
  const next = state.rows[at + step];
  return next ? next.id : null;
}

export function selectedButton() {
  return list.querySelector(".selected button");
}

async function fillDivisions() {
  const answer = await get("/api/divisions");
  const mine = answer.divisions.filter((d) => d.mine || config.every_division);
  filters.division.append(...mine.map((d) => el("option", { value: d.id }, d.name)));
  show(filters.division.parentElement, mine.length > 1);
  return answer.divisions;
}

// The business's WhatsApp numbers: a filter, and a name on each row, once there are two.
async function fillNumbers() {
  const answer = await get("/api/numbers");
  state.severalNumbers = answer.numbers.length > 1;
  filters.number.append(...answer.numbers.map((n) => el("option", { value: n.id }, n.label)));
  show(filters.number.parentElement, state.severalNumbers);
  if (state.severalNumbers) render();
}

// The labels of the user's divisions; the same name in two divisions shows its division.
async function fillLabels() {
  const answer = await get("/api/labels");
  const chosen = filters.label.value;
  const names = answer.labels.map((l) => l.name);
  const divisionName = new Map([...filters.division.options].map((o) => [o.value, o.text]));
  filters.label.replaceChildren(filters.label.options[0],
    ...answer.labels.map((l) => el("option", { value: l.id },
      names.indexOf(l.name) !== names.lastIndexOf(l.name)
        ? `${l.name} (${divisionName.get(String(l.division_id)) || l.division_id})` : l.name)));
  filters.label.value = chosen;
}

export async function startList(report) {
  const divisions = fillDivisions().catch(report);
  divisions.then(fillLabels).catch(report); // after the divisions: names tell labels apart
  fillNumbers().catch(report);
  for (const input of [filters.show, filters.status, filters.division, filters.label,
                       filters.number]) {
    input.addEventListener("change", () => { cursor = null; reload().catch(report); });
  }
  on("changed", () => fillLabels().catch(report)); // a label may have just been made
  byId("load-more").addEventListener("click", () => loadMore().catch(report));
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = byId("search-q").value.trim();
    (text ? search(text) : clearSearch()).catch(report);
  });
  byId("search-clear").addEventListener("click", () => clearSearch().catch(report));
  setInterval(render, 60000); // the window's time left counts down
  await reload();
  return divisions;
}
