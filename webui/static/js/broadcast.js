// Provides the campaign page's live progress, refreshed every two seconds while it runs:
// the bar, the counts, and the rate from one answer to the next. Writes text only.
(function () {
  "use strict";
  const card = document.getElementById("campaign");
  if (!card) { return; }
  const url = card.dataset.progress;
  let last = null;
  async function tick() {
    let data;
    try {
      const resp = await fetch(url, {headers: {"X-Gembok-Background": "1"}, credentials: "same-origin"});
      if (!resp.ok) { return; }
      data = await resp.json();
    } catch (e) { return; }
    const skipped = data.counts.skipped || 0;
    const done = data.done - skipped;
    const now = Date.now();
    document.getElementById("state").textContent = data.state;
    const bar = document.getElementById("progress");
    bar.max = data.to_send || 1;
    bar.value = done;
    let words = done.toLocaleString() + " / " + data.to_send.toLocaleString();
    if (last !== null && now > last.at) {
      const rate = (done - last.done) / ((now - last.at) / 1000);
      words += " · " + Math.max(0, Math.round(rate)).toLocaleString() + "/s";
    }
    document.getElementById("progress-words").textContent = words;
    last = {done: done, at: now};
    if (["running", "scheduled"].includes(data.state)) { setTimeout(tick, 2000); }
  }
  tick();
})();
