// Provides quick replies: typing "/" in the reply box lists the division's canned answers.
import { get } from "./api.js";
import { t } from "./config.js";
import { byId, el, show } from "./dom.js";
import { state } from "./state.js";

const box = byId("quick-replies");
const cache = new Map(); // division id -> its quick replies
let shown = [];
let active = 0;
let input = null;

async function repliesOf(division) {
  if (!division) return [];
  if (!cache.has(division)) {
    cache.set(division, get("/api/quick-replies", { division })
      .then((answer) => answer.quick_replies).catch(() => []));
  }
  return cache.get(division);
}

export function quickRepliesOpen() {
  return !box.hidden && shown.length > 0;
}

export function closeQuickReplies() {
  show(box, false);
  shown = [];
  if (input) input.removeAttribute("aria-activedescendant");
}

function choose(reply) {
  input.value = reply.body;
  closeQuickReplies();
  input.focus();
}

function render() {
  box.replaceChildren(...shown.map((reply, n) =>
    el("li", { id: "quick-" + n, role: "option", class: n === active ? "active" : "",
               "aria-selected": String(n === active),
               onmousedown: (event) => { event.preventDefault(); choose(reply); } },
      el("strong", {}, "/" + reply.shortcut), " ", el("span", {}, reply.body))));
  if (!shown.length) box.append(el("li", { class: "empty" }, t("no_quick_replies")));
  input.setAttribute("aria-activedescendant", shown.length ? "quick-" + active : "");
  show(box, true);
}

async function update() {
  const typed = input.value;
  if (!typed.startsWith("/") || typed.includes("\n")) {
    closeQuickReplies();
    return;
  }
  const word = typed.slice(1).toLowerCase();
  const all = await repliesOf(state.conversation && state.conversation.division_id);
  shown = all.filter((r) => r.shortcut.includes(word) || r.body.toLowerCase().includes(word))
    .slice(0, 8);
  active = 0;
  render();
}

export function startQuickReplies(textarea) {
  input = textarea;
  input.setAttribute("aria-controls", "quick-replies");
  input.addEventListener("input", () => { update(); });
  input.addEventListener("blur", () => setTimeout(closeQuickReplies, 150));
  input.addEventListener("keydown", (event) => {
    if (!quickRepliesOpen()) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + shown.length) % Math.max(1, shown.length);
      render();
    } else if ((event.key === "Enter" || event.key === "Tab") && shown.length) {
      event.preventDefault();
      choose(shown[active]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeQuickReplies();
    }
  });
}
