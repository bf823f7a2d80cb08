// Provides the reply box: replies, private notes, quick replies on "/", attachments, templates.
import { get, post, upload } from "./api.js";
import { can, t } from "./config.js";
import { byId, el, show } from "./dom.js";
import { report, say } from "./notice.js";
import { emit, state } from "./state.js";
import { closeQuickReplies, quickRepliesOpen, startQuickReplies } from "./quick.js";

const text = byId("reply-text");
const replyForm = byId("reply-form");
const templateForm = byId("template-form");
let noteMode = false;
let templates = null; // fetched once, when a closed window first needs them
let file = null;

let shownClosed = null; // whether the window was closed when the box was last arranged

function windowClosed() {
  return Boolean(state.conversation) && state.conversation.deadline <= Date.now();
}

// Shows what the open conversation allows: free text, or a template once the window closed.
export function arrange() {
  if (!can("conversation.reply")) return;
  shownClosed = windowClosed();
  const template = shownClosed && !noteMode;
  show(templateForm, template);
  show(replyForm, !template);
  show(byId("attach-label"), !noteMode);
  replyForm.classList.toggle("note-mode", noteMode);
  byId("mode-reply").setAttribute("aria-pressed", String(!noteMode));
  byId("mode-note").setAttribute("aria-pressed", String(noteMode));
  byId("reply-label").textContent = noteMode ? t("note") : t("reply");
  text.placeholder = noteMode ? t("note_placeholder") : t("reply_placeholder");
  byId("reply-send").textContent = noteMode ? t("add_note") : t("send");
  if (template) fillTemplates().catch(report);
}

function setMode(note) {
  noteMode = note;
  closeQuickReplies();
  arrange();
  text.focus();
}

async function send() {
  const id = state.conversationId;
  const words = text.value.trim();
  if (!id || !words) return;
  const path = "/api/conversations/" + Number(id) + (noteMode ? "/notes" : "/reply");
  await post(path, { text: words });
  text.value = "";
  say(noteMode ? t("note_added") : t("reply_queued"));
  emit("changed", id);
}

async function sendFile() {
  const id = state.conversationId;
  if (!id || !file) return;
  const form = new FormData();
  form.append("file", file);
  form.append("caption", text.value.trim());
  await upload("/api/conversations/" + Number(id) + "/attachment", form);
  text.value = "";
  dropFile();
  say(t("reply_queued"));
  emit("changed", id);
}

function dropFile() {
  file = null;
  byId("attach-file").value = "";
  show(byId("attachment-chip"), false);
}

// the picker is filled once per business number (templates belong to its account), however
// often the box is arranged
let templatesLoaded = null;
let templatesOf = null;

function fillTemplates() {
  const number = Number((state.conversation && state.conversation.number_id) || 1);
  if (templatesLoaded === null || templatesOf !== number) {
    templatesOf = number;
    templatesLoaded = get("/api/templates?number=" + number).then((answer) => {
      templates = answer.templates;
      const select = byId("template-name");
      select.replaceChildren(...templates.map((tpl, n) =>
        el("option", { value: String(n) }, tpl.name + " (" + tpl.language + ")")));
      if (!templates.length) select.append(el("option", { value: "" }, t("no_templates")));
      select.onchange = showTemplate;
      showTemplate();
    }).catch((error) => {
      templatesLoaded = null;
      throw error;
    });
  }
  return templatesLoaded;
}

function showTemplate() {
  const tpl = templates && templates[Number(byId("template-name").value)];
  byId("template-body").textContent = tpl ? tpl.body : "";
  const params = byId("template-params");
  params.replaceChildren();
  for (let n = 1; tpl && n <= tpl.parameters; n++) {
    params.append(el("label", {}, t("template_value", { n }),
      el("input", { type: "text", class: "template-value", required: true, maxlength: "1024",
                    dataset: { n } })));
  }
}

async function sendTemplate() {
  const tpl = templates && templates[Number(byId("template-name").value)];
  if (!tpl || !state.conversationId) return;
  const values = [...document.querySelectorAll(".template-value")].map((input) => input.value);
  await post("/api/conversations/" + Number(state.conversationId) + "/template",
             { name: tpl.name, language: tpl.language, parameters: values });
  showTemplate();
  say(t("reply_queued"));
  emit("changed", state.conversationId);
}

// The window closes while the conversation is open: the box turns into the template picker.
export function checkWindow() {
  if (state.conversation && windowClosed() !== shownClosed) arrange();
}

export function focusReply() {
  if (!state.conversationId || !can("conversation.reply")) return;
  const target = templateForm.hidden ? text : byId("template-name");
  target.focus();
}

export function startCompose() {
  if (!can("conversation.reply")) {
    show(byId("compose"), false);
    return;
  }
  startQuickReplies(text);
  byId("mode-reply").addEventListener("click", () => setMode(false));
  byId("mode-note").addEventListener("click", () => setMode(true));
  replyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    (file && !noteMode ? sendFile() : send()).catch((error) => {
      report(error);
      if (error.status === 422) emit("changed", state.conversationId); // e.g. window closed
    });
  });
  text.addEventListener("keydown", (event) => {
    // (Enter that picked a quick reply was handled, and prevented, by the list)
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.defaultPrevented
        && !quickRepliesOpen()) {
      event.preventDefault();
      replyForm.requestSubmit();
    }
  });
  byId("attach-file").addEventListener("change", (event) => {
    file = event.target.files[0] || null;
    byId("attachment-name").textContent = file ? file.name : "";
    show(byId("attachment-chip"), Boolean(file));
  });
  byId("attachment-send").addEventListener("click", () => sendFile().catch(report));
  byId("attachment-cancel").addEventListener("click", dropFile);
  templateForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sendTemplate().catch(report);
  });
}

export function resetCompose() {
  noteMode = false;
  text.value = "";
  dropFile();
  closeQuickReplies();
  if (templates) showTemplate(); // no values typed for someone else
  arrange();
}
