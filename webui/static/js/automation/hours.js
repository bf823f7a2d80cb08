// Provides the business hours page: a scope's week, away messages and days of its own.
import { get, post } from "../chatroom/api.js";
import { byId, el } from "../chatroom/dom.js";
import { config, fill, t } from "./config.js";

const WEEKDAYS = config.strings.weekdays;
let scope = null; // the division id, or null for the default of every division
let serial = 0;

function say(words) {
  byId("hours-state").textContent = words;
}

function problem(id, words) {
  byId(id).textContent = words;
  byId(id).hidden = !words;
}

function query() {
  return scope === null ? {} : { division: scope };
}

function timeInput(value, label) {
  serial += 1;
  const input = el("input", { type: "time", id: "time-" + serial, required: true,
                              value: value === "24:00" ? "00:00" : value });
  return [el("label", { for: input.id, class: "visually-hidden" }, label), input];
}

function renumber(day) {
  const rows = [...byId("weekdays").querySelectorAll(`[data-weekday="${day}"] li`)];
  rows.forEach((row, i) => {
    const name = { day: WEEKDAYS[day], n: i + 1 };
    const [opens, closes] = row.querySelectorAll("label");
    opens.textContent = t("opens") + " — " + t("period_of", name);
    closes.textContent = t("closes") + " — " + t("period_of", name);
    row.querySelector("button").setAttribute("aria-label", t("remove_period", name));
  });
}

function periodRow(day, opens = "08:00", closes = "17:00") {
  const late = el("span", { class: "late" }, t("past_midnight"));
  const row = el("li", { class: "period" }, ...timeInput(opens, t("opens")), "–",
                 ...timeInput(closes, t("closes")), late,
                 el("button", { type: "button", class: "link", onclick: () => {
                   row.remove();
                   renumber(day);
                 } }, t("remove")));
  const mark = () => {
    const [from, to] = row.querySelectorAll("input");
    late.hidden = !(from.value && to.value && to.value <= from.value);
  };
  row.addEventListener("input", mark);
  mark();
  return row;
}

function drawWeek(periods) {
  const week = byId("weekdays");
  week.replaceChildren();
  WEEKDAYS.forEach((name, day) => {
    const rows = el("ol", { class: "periods" });
    for (const p of periods.filter((p) => p.weekday === day)) {
      rows.append(periodRow(day, p.opens, p.closes));
    }
    const add = el("button", { type: "button", class: "ghost",
                               "aria-label": t("add_period", { day: name }), onclick: () => {
      const row = periodRow(day);
      rows.append(row);
      renumber(day);
      row.querySelector("input").focus();
    } }, t("add"));
    week.append(el("fieldset", { class: "weekday", dataset: { weekday: day } },
                   el("legend", {}, name), rows, add));
    renumber(day);
  });
}

function readPeriods() {
  const found = [];
  for (const box of byId("weekdays").querySelectorAll(".weekday")) {
    for (const row of box.querySelectorAll("li")) {
      const [opens, closes] = row.querySelectorAll("input");
      found.push({ weekday: Number(box.dataset.weekday), opens: opens.value,
                   closes: closes.value });
    }
  }
  return found;
}

function drawDays(days) {
  const body = byId("days");
  body.replaceChildren(...days.map((d) => el("tr", {},
    el("td", {}, d.day),
    el("td", {}, t(d.kind)),
    el("td", {}, d.label),
    el("td", {}, d.kind === "open" ? d.opens + "–" + d.closes : t("all_day")),
    el("td", {}, el("button", { type: "button", class: "link",
                                "aria-label": t("remove_day", { day: d.day }),
                                onclick: () => removeDay(d.day) }, t("remove"))))));
  byId("days-empty").hidden = days.length > 0;
}

function draw(hours) {
  const zone = byId("hours-zone");
  zone.replaceChildren();
  fill(zone, config.zones.map((z) => [z.name, t("zone", z)]), hours.time_zone);
  drawWeek(hours.periods);
  byId("hours-holidays").checked = hours.holidays_close;
  byId("away-id").value = hours.away_message_id;
  byId("away-en").value = hours.away_message_en;
  byId("hours-clear").hidden = !(scope !== null && hours.own);
  drawDays(hours.days);
  byId("days-state").textContent = "";
  const configured = hours.own || hours.periods.length > 0;
  say(hours.own ? t("own") : configured ? t("inherited") : t("never_set"));
  problem("hours-error", "");
}

async function load() {
  draw(await get("/api/automation/hours", query()));
}

async function save(event) {
  event.preventDefault();
  try {
    draw(await post("/api/automation/hours", {
      division_id: scope, time_zone: byId("hours-zone").value, periods: readPeriods(),
      holidays_close: byId("hours-holidays").checked,
      away_message_id: byId("away-id").value, away_message_en: byId("away-en").value,
    }));
    say(t("saved"));
  } catch (error) {
    problem("hours-error", error.message);
  }
}

async function clear() {
  try {
    await post("/api/automation/hours/clear", { division_id: scope });
    await load();
    say(t("cleared"));
  } catch (error) {
    problem("hours-error", error.message);
  }
}

async function addDay(event) {
  event.preventDefault();
  const open = byId("day-kind").value === "open";
  try {
    await post("/api/automation/hours/days", {
      division_id: scope, day: byId("day-date").value, kind: byId("day-kind").value,
      label: byId("day-label").value, opens: open ? byId("day-opens").value : "",
      closes: open ? byId("day-closes").value : "",
    });
  } catch (error) {
    problem("day-error", error.message);
    return;
  }
  problem("day-error", "");
  byId("day-form").reset();
  showTimes();
  drawDays((await get("/api/automation/hours", query())).days);
  byId("days-state").textContent = t("day_added");
}

async function removeDay(day) {
  try {
    await post("/api/automation/hours/days/remove", { division_id: scope, day });
    drawDays((await get("/api/automation/hours", query())).days);
    byId("days-state").textContent = t("day_removed");
  } catch (error) {
    problem("day-error", error.message);
  }
}

function showTimes() {
  const open = byId("day-kind").value === "open";
  for (const node of document.querySelectorAll(".day-time")) node.hidden = !open;
}

async function start() {
  if (!config.scopes.length) return;
  const select = byId("hours-scope");
  const known = config.scopes.some((s) => s.id === config.division);
  scope = known ? config.division : config.scopes[0].id;
  fill(select, config.scopes.map((s) => [s.id, s.name]), scope);
  select.addEventListener("change", () => {
    scope = select.value === "" ? null : Number(select.value);
    history.replaceState(null, "", scope === null ? location.pathname
                                                  : "?division=" + Number(scope));
    load().catch((error) => problem("hours-error", error.message));
  });
  byId("hours-form").addEventListener("submit", save);
  byId("hours-clear").addEventListener("click", clear);
  byId("day-form").addEventListener("submit", addDay);
  byId("day-kind").addEventListener("change", showTimes);
  showTimes();
  await load();
  document.body.dataset.ready = "true"; // for tests: every listener is in place
}

start().catch((error) => say(t("failed", { why: error.message })));
