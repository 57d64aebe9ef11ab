// callqa review: the player, clicks that seek, keyboard shortcuts, decisions without a reload.
// Plain script, no library, nothing from the network. Forms still work with JavaScript off.
(function () {
  "use strict";
  const player = document.getElementById("player");
  const LEAD_IN_S = 1.0; // play from 1 s before the evidence: the inspector hears it arrive
  let current = -1;

  function findings() { return Array.from(document.querySelectorAll("li.finding")); }

  function playFrom(start) {
    if (!player) return;
    const go = () => {
      player.currentTime = Math.max(0, start - LEAD_IN_S);
      player.play().catch(() => {});
    };
    if (player.readyState >= 1) go(); else player.addEventListener("loadedmetadata", go, { once: true });
  }

  function select(i, seek) {
    const all = findings();
    if (!all.length) return;
    current = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((el, k) => el.classList.toggle("current", k === current));
    const el = all[current];
    el.scrollIntoView({ block: "nearest" });
    document.querySelectorAll(".line.selected, mark.selected").forEach((n) => n.classList.remove("selected"));
    document.querySelectorAll('mark[data-finding="' + el.dataset.finding + '"]').forEach((n) => n.classList.add("selected"));
    if (seek) playFrom(parseFloat(el.dataset.start));
  }

  function flash(text) {
    const box = document.getElementById("flash");
    box.textContent = text;
    box.hidden = !text;
    if (text) setTimeout(() => { box.hidden = true; }, 5000);
  }

  document.addEventListener("click", (ev) => {
    const target = ev.target.closest("[data-start]");
    if (!target || ev.target.closest("form, select, input, textarea, a") && !ev.target.closest("button.play")) return;
    const card = target.closest("li.finding");
    if (card) { select(findings().indexOf(card), false); }
    playFrom(parseFloat(target.dataset.start));
  });

  document.addEventListener("click", (ev) => {
    if (!ev.target.matches("button.use-time") || !player) return;
    const form = ev.target.closest("form");
    const t = Math.round(player.currentTime * 10) / 10;
    form.elements.start_s.value = Math.max(0, t - 2).toFixed(1);
    form.elements.end_s.value = t.toFixed(1);
  });

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (!form.classList.contains("js-action")) return;
    ev.preventDefault();
    const keep = current;
    try {
      // getAttribute: a field named "action" shadows form.action
      const res = await fetch(form.getAttribute("action"), {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": form.elements.csrf.value },
      });
      const data = await res.json();
      if (!res.ok) { flash(data.error || "操作失败"); return; }
      document.getElementById("findings").innerHTML = data.findings;
      document.getElementById("score").innerHTML = data.score;
      document.getElementById("history").innerHTML = data.history;
      if (keep >= 0) select(keep, false);
      flash("");
    } catch (e) {
      flash("网络错误，操作未保存，请重试");
    }
  });

  function submitCurrent(kind) {
    const el = findings()[current];
    if (!el) return;
    const button = el.querySelector("button." + kind);
    if (button) button.closest("form").requestSubmit();
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, textarea, select") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const key = ev.key.toLowerCase();
    if (key === "j" || key === "n") { select(current + 1, true); }
    else if (key === "k" || key === "p") { select(current - 1, true); }
    else if (key === "c") { submitCurrent("confirm"); }
    else if (key === "r") { submitCurrent("reject"); }
    else if (key === " " && player) { if (player.paused) player.play().catch(() => {}); else player.pause(); }
    else return;
    ev.preventDefault();
  });

  const head = document.getElementById("playhead");
  if (player && head) {
    const x0 = parseFloat(head.dataset.x0), scale = parseFloat(head.dataset.scale);
    player.addEventListener("timeupdate", () => {
      const x = (x0 + player.currentTime * scale).toFixed(1);
      head.setAttribute("x1", x); head.setAttribute("x2", x);
    });
  }
})();
