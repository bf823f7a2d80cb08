// Provides the password strength meter: asks the server (zxcvbn and Gembok's rules) as the user types.
(function () {
  "use strict";
  var input = document.getElementById("new-password");
  var meter = document.getElementById("strength");
  var text = document.getElementById("strength-text");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var timer = null;
  if (!input) { return; }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch("/account/password/strength", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: JSON.stringify({ password: input.value })
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (answer) {
        if (!answer) { return; }  // refused (over 256 characters, signed out): keep the last word
        meter.value = answer.score;
        text.textContent = answer.problems.length ? answer.problems.join(" ") : (answer.warning || "");
      });
    }, 250);
  });
}());
