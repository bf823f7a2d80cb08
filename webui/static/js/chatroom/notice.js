// Provides the one-line notice under the page: what just happened, or what went wrong.
import { t } from "./config.js";
import { byId } from "./dom.js";

const box = byId("notice");
let timer = null;

export function say(text, isError = false) {
  box.textContent = text;
  box.classList.toggle("error", isError);
  box.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 3000);
}

export function report(error) {
  if (error && error.status === 401) return; // on its way to the sign-in page
  if (error && error.status === 404) say(t("gone"), true);
  else if (error && error.status === 422 && error.message) say(error.message, true);
  else say(t("failed"), true);
}
