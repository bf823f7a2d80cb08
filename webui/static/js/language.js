// Provides the header's language switch: choosing a language saves it and reloads this page.
(function () {
  "use strict";
  const form = document.querySelector(".language-form");
  if (!form) return;
  const select = form.querySelector(".language-select");
  form.querySelector(".language-submit").hidden = true; // without script, the button submits
  select.addEventListener("change", async () => {
    // The form would come back to "/" (no Referer is sent); this stays on the page.
    await fetch(form.action, { method: "POST", credentials: "same-origin",
                               body: new FormData(form), redirect: "manual" });
    window.location.reload();
  });
}());
