// Facilitator screen: every control updates the page in place (the forms still work without
// JavaScript), notes are saved as you type, arrow keys move between steps, counts stay live.
(function () {
  "use strict";
  if (!document.querySelector(".run")) return;
  var inFlight = false;

  function run() { return document.querySelector(".run"); }
  function csrfToken() {
    var field = document.querySelector(".run input[name=csrf_token]");
    return field ? field.value : "";
  }

  // --- messages: shown as a toast in view, read out by screen readers ---
  var toasts = document.createElement("div");
  toasts.className = "toasts";
  toasts.setAttribute("role", "status");
  toasts.setAttribute("aria-live", "polite");
  document.body.appendChild(toasts);
  function toast(text, kind) {
    var item = document.createElement("p");
    item.className = "flash flash-" + (kind || "info");
    item.textContent = text;
    toasts.appendChild(item);
    setTimeout(function () { item.remove(); }, 9000);
  }
  function moveFlashes(scope) {
    scope.querySelectorAll(".flashes .flash").forEach(function (flash) {
      var kind = (flash.className.match(/flash-(\w+)/) || [])[1];
      toast(flash.textContent, kind);
    });
    scope.querySelectorAll(".flashes").forEach(function (el) { el.remove(); });
  }
  moveFlashes(document);

  // --- notes: saved 600 ms after typing stops, on leaving the field and when the page hides ---
  var notes = { form: null, field: null, saved: "", timer: null, busy: false, again: false };
  function showStatus(state) {
    var status = notes.form && notes.form.querySelector("[data-save-status]");
    if (status) status.textContent = status.getAttribute("data-" + state) || "";
  }
  function saveNotes() {
    clearTimeout(notes.timer);
    var form = notes.form, field = notes.field;
    if (!field || field.readOnly || field.value === notes.saved) return;
    if (notes.busy) { notes.again = true; return; }
    notes.busy = true;
    var value = field.value, body = new FormData();
    body.append("notes", value);
    body.append("csrf_token", csrfToken());
    showStatus("saving");
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); if (notes.field === field) { notes.saved = value; showStatus("saved"); } })
      .catch(function () { showStatus("failed"); })
      .then(function () { notes.busy = false; if (notes.again) { notes.again = false; saveNotes(); } });
  }
  function flushNotes() {  // before the page changes: send what is unsaved, even if the page goes
    if (notes.field && !notes.field.readOnly && notes.field.value !== notes.saved) {
      var body = new FormData();
      body.append("notes", notes.field.value);
      body.append("csrf_token", csrfToken());
      navigator.sendBeacon(notes.form.getAttribute("action"), body);
      notes.saved = notes.field.value;
    }
  }
  function bindNotes() {
    notes.form = document.querySelector("form[data-autosave]");
    notes.field = notes.form && notes.form.querySelector("textarea");
    notes.saved = notes.field ? notes.field.value : "";
  }
  document.addEventListener("input", function (event) {
    if (event.target === notes.field) { clearTimeout(notes.timer); notes.timer = setTimeout(saveNotes, 600); }
  });
  document.addEventListener("focusout", function (event) { if (event.target === notes.field) saveNotes(); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") flushNotes(); });
  bindNotes();

  // --- in-place updates: post the form, put the new page's .run in place of the old one ---
  function swap(html, focusKey) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector(".run");
    if (!fresh) { window.location.reload(); return; }
    var old = run();
    // Keep what is being typed elsewhere on the page (an action point, an alternative, the screen text).
    old.querySelectorAll("textarea[id], input[id]").forEach(function (el) {
      if (el.type === "hidden" || el === notes.field || el.value === el.defaultValue) return;
      var twin = fresh.querySelector("#" + CSS.escape(el.id));
      if (twin && twin.defaultValue === el.defaultValue) twin.value = el.value;
    });
    var draft = notes.field && notes.field.value !== notes.saved
      ? { action: notes.form.getAttribute("action"), value: notes.field.value } : null;
    moveFlashes(doc);
    old.replaceWith(document.adoptNode(fresh));
    bindNotes();
    if (draft && notes.form && notes.form.getAttribute("action") === draft.action) {
      notes.field.value = draft.value;  // typed while the page was being updated: keep it and save it
      saveNotes();
    }
    window.beraadTimer && window.beraadTimer(fresh);
    var target = focusKey && fresh.querySelector(focusKey);
    if (target && !target.disabled) target.focus({ preventScroll: true });
  }

  function focusKeyFor(form, button) {
    if (form.id) return "#" + form.id + " button";
    if (button && button.id) return "#" + button.id;
    return null;
  }

  // Actions are sent one after another, in the order they were made: a quick second click waits.
  var queue = [];
  function sendNext() {
    if (inFlight || !queue.length) return;
    var job = queue.shift();
    inFlight = true;
    document.documentElement.classList.add("is-busy");
    fetch(job.action, { method: "POST", body: job.body, credentials: "same-origin",
                        headers: { "Accept": "text/html", "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { swap(html, job.focus); })
      .catch(function () { queue = []; toast(run().getAttribute("data-failed") || "", "error"); })
      .then(function () {
        inFlight = false;
        document.documentElement.classList.remove("is-busy");
        sendNext();
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.closest(".run") || form.hasAttribute("data-autosave")) return;
    event.preventDefault();
    if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) return;
    var body = new FormData(form);
    var button = event.submitter;
    if (button && button.name) body.append(button.name, button.value);
    flushNotes();
    // getAttribute: a field named "action" (the timer's buttons) would shadow form.action.
    queue.push({ action: form.getAttribute("action"), body: body, focus: focusKeyFor(form, button) });
    sendNext();
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

  window.beraadTimer && window.beraadTimer(document);

  // --- live counts; a change made elsewhere (another tab, the API) refreshes the page in place ---
  function typing() {
    var active = document.activeElement;
    return active && /^(textarea|input|select)$/i.test(active.tagName);
  }
  var CONTRIBUTIONS_SECONDS = 15;
  var seenContributions = null, lastContributionRefresh = Date.now();
  function poll() {
    var url = run().getAttribute("data-session-url");
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) return;
        document.querySelectorAll(".run [data-live=participants]").forEach(function (el) { el.textContent = state.participants; });
        document.querySelectorAll(".run [data-live=answers]").forEach(function (el) { if (state.poll) el.textContent = state.poll.answers; });
        // New contributions refresh the moderation list, at most every CONTRIBUTIONS_SECONDS: a list that
        // changed the moment someone put their phone down would tell the facilitator who wrote what.
        var newContributions = state.contributions !== undefined && seenContributions !== null &&
          state.contributions !== seenContributions && Date.now() - lastContributionRefresh > CONTRIBUTIONS_SECONDS * 1000;
        if (seenContributions === null) seenContributions = state.contributions;
        var changed = String(state.version) !== run().getAttribute("data-version") || newContributions;
        if (changed && !inFlight && !typing()) {
          if (newContributions) { seenContributions = state.contributions; lastContributionRefresh = Date.now(); }
          return fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
            .then(function (r) { return r.ok ? r.text() : null; })
            .then(function (html) { if (html && !inFlight && !typing()) swap(html, null); });
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 2000);
})();
