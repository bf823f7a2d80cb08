// Provides the rule editor: the form's conditions and actions, filled from a rule and read back.
import { byId, el } from "../chatroom/dom.js";
import { config, fill, numberOrNull, t } from "./config.js";

const triggers = byId("trigger-rows");
const actions = byId("action-rows");
let editingId = null; // null: closed; 0: a new rule; else the rule's id
let serial = 0;

function uid() {
  serial += 1;
  return "part-" + serial;
}

function lines(text) {
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "");
}

function field(label, control) {
  control.id = control.id || uid();
  return el("label", { for: control.id }, label, " ", control);
}

function wordsBox(words, label) {
  const box = el("textarea", { rows: 3, "data-field": "words", maxlength: 20000 });
  box.value = words.join("\n");
  return field(label, box);
}

function triggerDetail(kind, trigger) {
  if (kind === "keyword") {
    const mode = fill(el("select", { "data-field": "mode" }),
                      config.modes.map((m) => [m, t("mode_" + m)]), trigger.mode || "contains");
    return [field(t("how"), mode), wordsBox(trigger.words || [], t("words"))];
  }
  if (kind === "reply_id") return [wordsBox(trigger.words || [], t("reply_ids"))];
  if (kind === "media") {
    const chosen = new Set(trigger.words || []);
    return [el("fieldset", { class: "media-kinds" }, el("legend", {}, t("media_kinds")),
               config.media.map((m) => el("label", { class: "check" },
                 el("input", { type: "checkbox", value: m, "data-field": "media",
                               checked: chosen.has(m) }), " ", t("media_" + m))))];
  }
  if (kind === "waiting") {
    const minutes = el("input", { type: "number", min: 1, max: 10080, step: 1,
                                  "data-field": "minutes", value: trigger.minutes || 30 });
    return [field(t("minutes"), minutes)];
  }
  return [];
}

function actionDetail(kind, action) {
  const value = action.value || "";
  const target = action.target === undefined ? null : action.target;
  const text = (label, max, rows) => {
    const box = rows ? el("textarea", { rows, maxlength: max, "data-field": "value" })
                     : el("input", { type: "text", maxlength: max, "data-field": "value" });
    box.value = value;
    return [field(label, box)];
  };
  const pick = (label, pairs, name, chosen) => {
    if (!pairs.length) return [el("p", { class: "hint" }, t("no_agents"))];
    return [field(label, fill(el("select", { "data-field": name }), pairs, chosen))];
  };
  switch (kind) {
    case "reply_text": return text(t("text"), 4096, 3);
    case "reply_media": return text(t("media_link"), 3100, 2);
    case "reply_template": return text(t("template"), 520);
    case "reply_interactive": return [el("p", { class: "hint" }, t("menu_hint"))];
    case "add_label": return text(t("label"), 400);
    case "note": return text(t("note_text"), 400, 2);
    case "notify": return text(t("notify_text"), 400);
    case "set_status":
      return pick(t("status"), config.states.map((s) => [s, t("state_" + s)]), "value",
                  value || "resolved");
    case "route_division":
      return pick(t("division"), config.divisions.map((d) => [d.id, d.name]), "target", target);
    case "route_agent":
      return pick(t("agent"), config.agents.map((a) => [a.id, a.name]), "target", target);
    default: return [];
  }
}

function partRow(list, kinds, prefix, detailOf, part) {
  const kind = fill(el("select", { class: "part-kind" }),
                    kinds.map((k) => [k, t(prefix + "_" + k)]), part.kind);
  kind.id = uid();
  const title = el("label", { for: kind.id, class: "part-title" });
  const detail = el("div", { class: "part-detail" });
  const remove = el("button", { type: "button", class: "link part-remove" }, t("remove"));
  const row = el("li", { class: "part", dataset: { prefix } },
                 el("div", { class: "part-head" }, title, kind, remove), detail);
  const draw = () => detail.replaceChildren(...detailOf(kind.value, part));
  kind.addEventListener("change", draw);
  remove.addEventListener("click", () => {
    row.remove();
    renumber();
  });
  draw();
  list.append(row);
  renumber();
  return row;
}

function renumber() {
  for (const [list, name, removeName] of [[triggers, "condition_n", "remove_condition"],
                                          [actions, "action_n", "remove_action"]]) {
    [...list.children].forEach((row, i) => {
      row.querySelector(".part-title").textContent = t(name, { n: i + 1 });
      row.querySelector(".part-remove").setAttribute("aria-label", t(removeName, { n: i + 1 }));
    });
  }
}

export function addTrigger(trigger = { kind: "keyword", words: [], mode: "contains" }) {
  return partRow(triggers, config.triggers, "trigger", triggerDetail, trigger);
}

export function addAction(action = { kind: "reply_text", value: "" }) {
  return partRow(actions, config.actions, "action", actionDetail, action);
}

function readTrigger(row) {
  const kind = row.querySelector(".part-kind").value;
  const get = (name) => row.querySelector(`[data-field="${name}"]`);
  const trigger = { kind, words: [], mode: "contains", minutes: 0 };
  if (kind === "keyword") {
    trigger.mode = get("mode").value;
    trigger.words = lines(get("words").value);
  } else if (kind === "reply_id") {
    trigger.words = lines(get("words").value);
  } else if (kind === "media") {
    trigger.words = [...row.querySelectorAll('[data-field="media"]:checked')].map((b) => b.value);
  } else if (kind === "waiting") {
    trigger.minutes = Math.max(0, Number.parseInt(get("minutes").value, 10) || 0);
  }
  return trigger;
}

function readAction(row) {
  const kind = row.querySelector(".part-kind").value;
  const value = row.querySelector('[data-field="value"]');
  const target = row.querySelector('[data-field="target"]');
  return { kind, value: value ? value.value : "", target: target ? numberOrNull(target.value) : null };
}

// The rule as the form holds it now, in the API's shape.
export function readRule() {
  return {
    id: editingId || 0,
    name: byId("rule-name").value,
    division_id: numberOrNull(byId("rule-scope").value),
    enabled: byId("rule-enabled").checked,
    stop: byId("rule-stop").checked,
    triggers: [...triggers.children].map(readTrigger),
    actions: [...actions.children].map(readAction),
  };
}

export function editing() {
  return editingId;
}

// Opens the form on `rule` (null: a new one, with one keyword condition and one reply).
export function openEditor(rule) {
  editingId = rule ? rule.id : 0;
  byId("editor-title").textContent = rule ? t("editing", { n: rule.id, name: rule.name })
                                          : t("new_rule");
  byId("rule-name").value = rule ? rule.name : "";
  const scope = byId("rule-scope");
  scope.replaceChildren();
  fill(scope, config.scopes.map((s) => [s.id, s.name]),
       rule ? rule.division_id : config.scopes[0].id);
  byId("rule-enabled").checked = rule ? rule.enabled : true;
  byId(rule && !rule.stop ? "rule-continue" : "rule-stop").checked = true;
  triggers.replaceChildren();
  actions.replaceChildren();
  for (const trigger of rule ? rule.triggers : [undefined]) addTrigger(trigger);
  for (const action of rule ? rule.actions : [undefined]) addAction(action);
  showError("");
  byId("editor").hidden = false;
  byId("try-edited-label").hidden = false;
  byId("rule-name").focus();
}

export function closeEditor() {
  editingId = null;
  byId("editor").hidden = true;
  byId("try-edited-label").hidden = true;
}

export function showError(words) {
  const box = byId("rule-error");
  box.textContent = words;
  box.hidden = !words;
}
