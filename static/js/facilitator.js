// Facilitator screen: notes saved as you type, keyboard shortcuts, a live timer and counts.
(function () {
  "use strict";
  var root = document.querySelector(".run");
  if (!root) return;

  function csrfToken() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  // --- notes: saved 600 ms after typing stops, on leaving the field and when the page hides ---
  var notesForm = document.querySelector("form[data-autosave]");
  if (notesForm) {
    var field = notesForm.querySelector("textarea");
    var status = notesForm.querySelector("[data-save-status]");
    var timer = null, saved = field.value, inFlight = false, again = false;

    function show(state) { if (status) status.textContent = status.getAttribute("data-" + state) || ""; }

    function save() {
      clearTimeout(timer);
      if (field.readOnly || field.value === saved) return;
      if (inFlight) { again = true; return; }
      inFlight = true;
      var value = field.value;
      var body = new FormData();
      body.append("notes", value);
      body.append("csrf_token", csrfToken());
      show("saving");
      fetch(notesForm.action, { method: "POST", body: body, credentials: "same-origin",
                                headers: { "Accept": "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); saved = value; show("saved"); })
        .catch(function () { show("failed"); })
        .then(function () { inFlight = false; if (again) { again = false; save(); } });
    }

    field.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(save, 600); });
    field.addEventListener("blur", save);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && field.value !== saved && !field.readOnly) {
        var body = new FormData();
        body.append("notes", field.value);
        body.append("csrf_token", csrfToken());
        navigator.sendBeacon(notesForm.action, body);
        saved = field.value;
      }
    });
    // Save before following any step or control button.
    document.querySelectorAll("form:not([data-autosave])").forEach(function (form) {
      form.addEventListener("submit", function () { if (field.value !== saved) {
        var body = new FormData(); body.append("notes", field.value); body.append("csrf_token", csrfToken());
        navigator.sendBeacon(notesForm.action, body); saved = field.value; } });
    });
  }

  // --- confirmations ---
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // --- keyboard: arrows move between steps, except while typing ---
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "input" || tag === "select" || event.altKey || event.ctrlKey || event.metaKey) return;
    var formId = event.key === "ArrowRight" || event.key === "PageDown" ? "next-form"
               : event.key === "ArrowLeft" || event.key === "PageUp" ? "previous-form" : null;
    if (!formId) return;
    var button = document.querySelector("#" + formId + " button");
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  });

  // --- timer: counts locally between page loads ---
  window.beraadTimer && window.beraadTimer(document);

  // --- live counts: participants and answers ---
  var url = root.getAttribute("data-session-url");
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) return;
        var p = document.querySelector("[data-live=participants]");
        if (p) p.textContent = state.participants;
        var a = document.querySelector("[data-live=answers]");
        if (a && state.poll) a.textContent = state.poll.answers;
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 2000);
})();
