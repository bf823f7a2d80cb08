// Provides the keyboard shortcuts (j/k, r, a, e, /, ?, Esc) and their help box.
import { byId } from "./dom.js";

function typing(target) {
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

// `actions`: { next, previous, reply, assign, resolve, search, back }.
export function startKeys(actions) {
  const help = byId("help-dialog");
  byId("help-open").addEventListener("click", () => help.showModal());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (document.querySelector("dialog[open]")) return; // the dialog closes itself
      if (typing(event.target)) event.target.blur();
      else actions.back();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    const handler = {
      j: actions.next, k: actions.previous, r: actions.reply, a: actions.assign,
      e: actions.resolve, "/": actions.search, "?": () => help.showModal(),
    }[event.key];
    if (handler) {
      event.preventDefault();
      handler();
    }
  });
}
