// Projector: follows the session by polling its state (304 while nothing changes).
(function () {
  "use strict";
  var root = document.querySelector(".projector-layout");
  if (!root) return;
  var stateUrl = root.getAttribute("data-state-url");
  var stageUrl = root.getAttribute("data-stage-url");
  var stage = document.getElementById("stage");
  var version = root.getAttribute("data-version");
  var etag = null;

  function refreshStage() {
    return fetch(stageUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { stage.innerHTML = html; window.beraadTimer && window.beraadTimer(stage); });
  }

  function poll() {
    var headers = { "Accept": "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(stateUrl, { cache: "no-store", credentials: "same-origin", headers: headers })
      .then(function (r) {
        if (r.status === 304) return null;
        if (!r.ok) throw new Error(r.status);
        etag = r.headers.get("ETag");
        return r.json();
      })
      .then(function (state) {
        if (!state) return;
        root.className = "projector-layout status-" + state.status;
        document.querySelectorAll("[data-live=participants]").forEach(function (el) { el.textContent = state.participants; });
        document.querySelectorAll("[data-live=answers]").forEach(function (el) { if (state.poll) el.textContent = state.poll.answers; });
        if (String(state.version) !== String(version)) {
          version = state.version;
          return refreshStage();
        }
      })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { setTimeout(poll, 1000); });
  }
  window.beraadTimer && window.beraadTimer(document);
  setTimeout(poll, 1000);
})();
