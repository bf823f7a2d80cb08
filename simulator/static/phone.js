// The customer phone: polls the simulator's control API every second and shows the chat.
// The control API wants its token in a header. `gembok run` prints this page's link with
// the token in the URL fragment (#t=…), which never reaches a server or a log; it is kept
// in this tab's sessionStorage (other sites cannot read it) and taken off the address bar.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "gembok-sim-token";
let current = null; // the selected customer's user_id
let lastRendered = "";

function takeToken() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("t")) {
    sessionStorage.setItem(TOKEN_KEY, fragment.get("t"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

const token = takeToken();

class NoToken extends Error {}

async function api(method, path, body) {
  if (!token) throw new NoToken();
  const headers = { "X-Sim-Token": token };
  const init = { method, headers, cache: "no-store" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json"; // the control API takes JSON only
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) throw new NoToken();
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function showError(error) {
  $("no-token").hidden = !(error instanceof NoToken);
  if (error instanceof NoToken) error = null;
  $("error").textContent = error ? String(error.message || error) : "";
  $("error").hidden = !error;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function ticks(status) {
  // Only glyphs Debian's Chromium draws with its default fonts (DejaVu): no emoji.
  return { accepted: "◷", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "⚠" }[status] || "";
}

function reply(message, interactive, context) {
  return api("POST", `/_sim/customers/${current}/messages`,
             { type: "interactive", interactive, context: { id: context } });
}

function bodyOf(m) {
  const x = m.message;
  if (m.rendered) return [m.rendered.header, m.rendered.body, m.rendered.footer].filter(Boolean).join("\n");
  if (m.type === "text") return x.text ? x.text.body : x.body;
  if (m.type === "interactive") {
    const i = m.direction === "in" ? x.interactive : x;
    if (m.direction === "in") return "↩ " + (i[i.type] && i[i.type].title || "");
    return [i.header && i.header.text, i.body && i.body.text, i.footer && i.footer.text]
      .filter(Boolean).join("\n");
  }
  if (m.type === "button") return "↩ " + x.button.text;
  if (m.type === "reaction") return (x.reaction || x).emoji || "(reaksi dihapus / reaction removed)";
  if (m.type === "location") { const l = x.location || x; return `Lokasi (Location): ${l.name || ""} ${l.latitude}, ${l.longitude}`; }
  const media = m.direction === "in" ? x[m.type] : x;
  if (media && ["image", "video", "audio", "document", "sticker"].includes(m.type)) {
    return `[${m.type}] ${media.caption || media.filename || ""}`;
  }
  return `[${m.type}]`;
}

function actions(m) {
  const box = el("div", "actions");
  if (m.direction !== "out") return box;
  if (m.type === "interactive" && m.message.type === "button") {
    for (const b of m.message.action.buttons) {
      const button = el("button", "", b.reply.title);
      button.addEventListener("click", () => reply(m, { type: "button_reply", button_reply: { id: b.reply.id, title: b.reply.title } }, m.wamid).catch(showError));
      box.append(button);
    }
  } else if (m.type === "interactive" && m.message.type === "list") {
    for (const section of m.message.action.sections) {
      for (const row of section.rows) {
        const button = el("button", "row", row.title);
        button.title = row.description || "";
        button.addEventListener("click", () => reply(m, { type: "list_reply", list_reply: { id: row.id, title: row.title, description: row.description } }, m.wamid).catch(showError));
        box.append(button);
      }
    }
  } else if (m.rendered) {
    for (const b of m.rendered.buttons) {
      const button = el("button", "", b.text);
      button.addEventListener("click", () => api("POST", `/_sim/customers/${current}/messages`,
        { type: "button", button: { payload: b.payload, text: b.text }, context: { id: m.wamid } }).catch(showError));
      box.append(button);
    }
  }
  return box;
}

function render(thread) {
  const key = JSON.stringify(thread);
  if (key === lastRendered) return;
  lastRendered = key;
  const chat = $("chat");
  chat.replaceChildren();
  for (const m of thread.messages) {
    const bubble = el("div", `bubble ${m.direction === "out" ? "from-business" : "from-me"} ${m.status}`);
    bubble.append(el("div", "text", bodyOf(m)));
    bubble.append(actions(m));
    // The office's time, formatted by the simulator ("14:05 WIB"): this browser may run in UTC.
    bubble.append(el("div", "meta", `${m.time} ${m.direction === "in" ? ticks(m.status) : ""}`));
    if (m.status === "failed") bubble.append(el("div", "meta", `gagal (failed) #${m.error_code}`));
    chat.append(bubble);
  }
  chat.scrollTop = chat.scrollHeight;
  $("typing").hidden = !thread.typing;
  $("opted-out").checked = thread.customer.opted_out;
}

async function refresh() {
  try {
    const { customers } = await api("GET", "/_sim/customers");
    const select = $("customer");
    const wanted = customers.map((c) => c.user_id).join();
    if (select.dataset.ids !== wanted) {
      select.replaceChildren(...customers.map((c) => {
        const option = el("option", "", `${c.name} — ${c.wa_id ? "+" + c.wa_id : c.username}`);
        option.value = c.user_id;
        return option;
      }));
      select.dataset.ids = wanted;
    }
    if (!current && customers.length) current = customers[0].user_id;
    select.value = current || "";
    if (!current) return;
    const thread = await api("GET", `/_sim/customers/${current}/thread`);
    if ($("auto-read").checked && thread.messages.some((m) => m.direction === "out" && (m.status === "sent" || m.status === "delivered"))) {
      await api("POST", `/_sim/customers/${current}/read`, {});
    }
    render(thread);
    showError(null);
  } catch (error) {
    showError(error);
  }
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  const business = await api("GET", "/_sim/business").catch((error) => { showError(error); return null; });
  if (business) $("business").textContent = `${business.business_name} (+${business.display_phone_number})`;
  $("customer").addEventListener("change", (e) => { current = e.target.value; lastRendered = ""; refresh(); });
  $("new-customer").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const created = await api("POST", "/_sim/customers", {
        name: $("new-name").value, phone: $("new-phone").value || null,
        username: $("new-username").value || null,
      });
      current = created.user_id;
      e.target.reset();
      refresh();
    } catch (error) { showError(error); }
  });
  $("composer").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    if (!current || !text) return;
    try {
      await api("POST", `/_sim/customers/${current}/messages`, { type: "text", text: { body: text } });
      $("text").value = "";
      refresh();
    } catch (error) { showError(error); }
  });
  $("photo").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!current || !file) return;
    try {
      await api("POST", `/_sim/customers/${current}/messages`, {
        type: "image", image: { caption: $("text").value || undefined },
        content_base64: await readFile(file), mime_type: file.type,
      });
      $("text").value = "";
      e.target.value = "";
      refresh();
    } catch (error) { showError(error); }
  });
  $("opted-out").addEventListener("change", (e) => {
    if (current) api("POST", `/_sim/customers/${current}/${e.target.checked ? "opt_out" : "opt_in"}`).catch(showError);
  });
  refresh();
  setInterval(refresh, 1000);
});
