// Provides the rules page's wiring: the ordered list, moving, deleting, saving and "try it".
import { get, post } from "../chatroom/api.js";
import { byId, el } from "../chatroom/dom.js";
import { config, fill, numberOrNull, t } from "./config.js";
import { addAction, addTrigger, closeEditor, editing, openEditor, readRule,
         showError } from "./editor.js";

const list = byId("rule-list");
let rules = [];

function say(words) {
  byId("rules-notice").textContent = words;
}

function nameOf(items, id, fallback) {
  const found = items.find((item) => item.id === id);
  return found ? found.name : t(fallback, { id });
}

function quoted(words) {
  return words.map((w) => "“" + w + "”").join(", ");
}

function short(text) {
  return text.length > 80 ? text.slice(0, 79) + "…" : text;
}

function triggerSummary(trigger) {
  const label = t("trigger_" + trigger.kind);
  switch (trigger.kind) {
    case "keyword": return label + ": " + t("mode_" + trigger.mode) + " " + quoted(trigger.words);
    case "reply_id": return label + ": " + quoted(trigger.words);
    case "media": return label + ": " + trigger.words.map((m) => t("media_" + m)).join(", ");
    case "waiting": return label + ": " + t("minutes_n", { n: trigger.minutes });
    default: return label;
  }
}

function actionSummary(action) {
  const label = t("action_" + action.kind);
  switch (action.kind) {
    case "reply_text": case "note": case "notify": case "add_label": case "reply_template":
      return action.value ? label + ": " + quoted([short(action.value)]) : label;
    case "set_status": return label + ": " + t("state_" + action.value);
    case "route_division":
      return label + ": " + nameOf(config.divisions, action.target, "unknown_division");
    case "route_agent":
      return label + ": " + nameOf(config.agents, action.target, "unknown_agent");
    default: return label;
  }
}

function scopeName(rule) {
  return rule.division_id === null ? t("global")
                                   : nameOf(config.divisions, rule.division_id, "unknown_division");
}

function button(text, label, action, disabled = false) {
  return el("button", { type: "button", class: "ghost", "aria-label": label, disabled,
                        onclick: action }, text);
}

function ruleItem(rule, index) {
  const facts = [scopeName(rule), rule.stop ? t("stops") : t("continues")];
  if (!rule.enabled) facts.push(t("off"));
  if (!rule.may_change) facts.push(t("read_only"));
  const item = el("li", { class: "rule" + (rule.enabled ? "" : " disabled"),
                          dataset: { ruleId: rule.id } },
    el("div", { class: "rule-head" },
       el("strong", { class: "rule-name" }, rule.name),
       el("span", { class: "rule-id" }, "#" + rule.id),
       el("span", { class: "rule-facts" }, facts.join(" · "))),
    el("dl", { class: "rule-parts" },
       el("dt", {}, t("when")), el("dd", {}, rule.triggers.map(triggerSummary).join("; ")),
       el("dt", {}, t("then")), el("dd", {}, rule.actions.map(actionSummary).join("; "))));
  if (rule.may_change) {
    const name = { name: rule.name };
    item.append(el("div", { class: "rule-buttons" },
      button(t("up"), t("move_up", name), () => move(rule, "up"), index === 0),
      button(t("down"), t("move_down", name), () => move(rule, "down"),
             index === rules.length - 1),
      button(t("edit"), t("edit_rule", name), () => edit(rule)),
      button(t("delete"), t("delete_rule", name), () => remove(rule))));
  }
  return item;
}

async function load() {
  rules = (await get("/api/automation/rules")).rules;
  list.replaceChildren(...rules.map(ruleItem));
  byId("rules-empty").hidden = rules.length > 0;
}

async function move(rule, direction) {
  try {
    await post(`/api/automation/rules/${Number(rule.id)}/move`, { direction });
    await load();
    say(t("moved"));
    const again = list.querySelector(`li[data-rule-id="${Number(rule.id)}"] button`);
    if (again) again.focus();
  } catch (error) {
    say(t("failed", { why: error.message }));
  }
}

function edit(rule) {
  openEditor(rule);
  followScope();
}

function remove(rule) {
  const dialog = byId("delete-dialog");
  byId("delete-name").textContent = rule.name;
  dialog.returnValue = "";
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "delete") return;
    try {
      await post(`/api/automation/rules/${Number(rule.id)}/delete`);
      if (editing() === rule.id) closeEditor();
      await load();
      say(t("deleted"));
    } catch (error) {
      say(t("failed", { why: error.message }));
    }
  }, { once: true });
  dialog.showModal();
}

async function save(event) {
  event.preventDefault();
  const rule = readRule();
  const path = rule.id ? `/api/automation/rules/${Number(rule.id)}` : "/api/automation/rules";
  try {
    await post(path, rule);
  } catch (error) {
    showError(error.message);
    return;
  }
  closeEditor();
  await load();
  say(t("saved"));
  byId("rule-add").focus();
}

// The "try it" box follows the division of the rule being edited.
function followScope() {
  const scope = byId("rule-scope").value;
  if (scope !== "") byId("try-division").value = scope;
}

function sentence(result) {
  if (result.refused) return t("not_saved", { why: result.refused });
  if (!result.fired.length) return t("no_rule");
  const names = result.fired.map((f) => (f.id === 0 ? t("edited_ref", { name: f.name })
                                                    : t("rule_ref", { id: f.id, name: f.name })));
  return t("would_fire", { rules: names.join(t("then_sep")) }) +
         (result.stopped ? t("then_stop") : "");
}

async function tryIt(event) {
  event.preventDefault();
  const body = {
    text: byId("try-text").value,
    division_id: numberOrNull(byId("try-division").value),
    outside_hours: byId("try-outside-hours").checked,
    first_ever: byId("try-first-ever").checked,
    first_of_day: byId("try-first-of-day").checked,
  };
  if (editing() !== null && byId("try-edited").checked) body.rule = readRule();
  const out = byId("try-result");
  try {
    out.textContent = sentence(await post("/api/automation/try", body));
    out.classList.remove("error");
  } catch (error) {
    out.textContent = t("failed", { why: error.message });
    out.classList.add("error");
  }
}

async function start() {
  const divisions = config.scopes.filter((s) => s.id !== null);
  const trying = byId("try-division");
  fill(trying, divisions.map((d) => [d.id, d.name]),
       config.scopes.some((s) => s.id === null) || !divisions.length ? "" : divisions[0].id);
  byId("rule-add").hidden = !config.scopes.length;
  byId("rule-add").addEventListener("click", () => {
    openEditor(null);
    followScope();
  });
  byId("rule-cancel").addEventListener("click", () => {
    closeEditor();
    byId("rule-add").focus();
  });
  byId("trigger-add").addEventListener("click", () => addTrigger().querySelector("select").focus());
  byId("action-add").addEventListener("click", () => addAction().querySelector("select").focus());
  byId("rule-scope").addEventListener("change", followScope);
  byId("rule-form").addEventListener("submit", save);
  byId("try-form").addEventListener("submit", tryIt);
  await load();
  document.body.dataset.ready = "true"; // for tests: every listener is in place
}

start().catch((error) => say(t("failed", { why: error.message })));
