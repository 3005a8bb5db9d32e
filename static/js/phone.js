// Phone: reload when the session moves on, unless the participant is in the middle of answering.
(function () {
  "use strict";
  var root = document.querySelector("[data-phone]");
  if (!root) return;
  var url = root.getAttribute("data-state-url");
  var version = root.getAttribute("data-version");
  var etag = '"v' + version + '"';
  var busy = false;
  document.addEventListener("input", function () { busy = true; });
  document.addEventListener("submit", function () { busy = false; });

  function poll() {
    fetch(url, { cache: "no-store", credentials: "same-origin", headers: { "If-None-Match": etag } })
      .then(function (r) {
        if (r.status === 304) return;
        if (!r.ok) return;
        etag = r.headers.get("ETag") || etag;
        return r.json().then(function (state) {
          if (String(state.version) !== String(version) && !busy) { window.location.reload(); }
        });
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 2000);
})();
