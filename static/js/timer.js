// Shared timer display: [data-timer] elements count up from data-elapsed while data-running.
(function () {
  "use strict";
  function format(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)), ss = String(s).padStart(2, "0");
    return (h ? h + ":" : "") + mm + ":" + ss;
  }
  var started = Date.now();
  function tick(scope) {
    scope.querySelectorAll("[data-timer]").forEach(function (el) {
      var base = parseInt(el.getAttribute("data-elapsed"), 10) || 0;
      var planned = parseInt(el.getAttribute("data-planned"), 10) || 0;
      var running = el.getAttribute("data-running") === "true";
      var since = parseInt(el.getAttribute("data-since") || started, 10);
      var elapsed = base + (running ? (Date.now() - since) / 1000 : 0);
      var out = el.querySelector("[data-timer-elapsed]");
      if (out) out.textContent = format(elapsed);
      var over = planned && elapsed > planned;
      el.classList.toggle("overrun", !!over);
      var timeEl = el.querySelector(".timer");
      if (timeEl) timeEl.classList.toggle("overrun", !!over);
      var note = document.querySelector("[data-timer-overrun]");
      if (note) note.hidden = !over;
    });
  }
  window.beraadTimer = function (scope) {
    scope.querySelectorAll("[data-timer]").forEach(function (el) {
      if (!el.getAttribute("data-since")) el.setAttribute("data-since", String(Date.now()));
    });
    tick(scope);
  };
  setInterval(function () { tick(document); }, 1000);
})();
