// Provides live updates: the change stream, and a sound and notification for new conversations.
import { get, quietly } from "./api.js";
import { config, t } from "./config.js";
import { byId } from "./dom.js";
import { isKnown, remember } from "./list.js";
import { emit } from "./state.js";

const KEY = "gembok.alerts"; // "on" once the user turned alerts on in this browser
const button = byId("alerts-toggle");
let pending = new Map(); // conversation id -> kinds, gathered for a moment
let timer = null;

function alertsOn() {
  return window.localStorage.getItem(KEY) === "on";
}

function showButton() {
  const on = alertsOn();
  button.textContent = on ? t("alerts_on") : t("alerts_off");
  button.setAttribute("aria-pressed", String(on));
}

async function toggleAlerts() {
  if (alertsOn()) {
    window.localStorage.removeItem(KEY);
  } else {
    if ("Notification" in window && Notification.permission === "default") {
      await Notification.requestPermission();
    }
    window.localStorage.setItem(KEY, "on");
    ring([]); // so the user hears what it sounds like
  }
  showButton();
}

// The sound, and a notification naming only the division (nothing of the customer).
function ring(rows) {
  if (!alertsOn()) return;
  const sound = new Audio(config.sound);
  sound.play().catch(() => {});
  if (!rows.length || !("Notification" in window) || Notification.permission !== "granted") {
    return;
  }
  for (const row of rows) {
    const note = new Notification(t("new_conversation"), {
      body: row.division ? t("new_conversation_in", { division: row.division }) : "",
      tag: "gembok-" + row.id, silent: true });
    note.addEventListener("click", () => { window.focus(); emit("open", row.id); });
  }
}

// Conversations never listed here that wrote in: new ones (open, in the user's scope) ring.
async function announce(ids) {
  const unknown = ids.filter((id) => !isKnown(id));
  if (!unknown.length) return;
  const page = await get("/api/conversations", { show: "all", status: "open" });
  const fresh = page.conversations.filter((row) => unknown.includes(row.id));
  remember(page.conversations.map((row) => row.id));
  remember(unknown);
  ring(fresh);
}

function flush() {
  timer = null;
  const changes = pending;
  pending = new Map();
  const arrived = [...changes].filter(([, kinds]) => kinds.has("message")
    || kinds.has("transferred")).map(([id]) => id);
  quietly(() => announce(arrived)).catch(() => {})
    .then(() => quietly(() => emit("changes", changes)));
}

function connect() {
  const stream = new EventSource("/api/stream");
  // The stream tells what changed after it (re)connected: catch up on anything before.
  stream.addEventListener("open", () => quietly(() => emit("resync")));
  stream.addEventListener("changes", (event) => {
    for (const change of JSON.parse(event.data).changes) {
      if (!pending.has(change.conversation)) pending.set(change.conversation, new Set());
      pending.get(change.conversation).add(change.kind);
    }
    if (!timer) timer = setTimeout(flush, 250);
  });
  stream.addEventListener("end", () => {
    stream.close();
    window.location.assign("/login");
  });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) {
      // refused (signed out elsewhere?): a plain call tells, and 401 goes to the sign-in page
      get("/api/counts").then(() => setTimeout(connect, 5000)).catch(() => {});
    }
  });
}

export function startLive() {
  showButton();
  button.addEventListener("click", () => { toggleAlerts(); });
  connect();
}
