// Phone: follows the room in place (no reload), sends answers and contributions without leaving the
// page and says so where the participant looks. Everything also works without JavaScript.
(function () {
  "use strict";
  var root = document.querySelector("[data-phone]");
  if (!root) return;
  var stateUrl = root.getAttribute("data-state-url");
  var stageUrl = root.getAttribute("data-stage-url");
  var box = document.getElementById("phone-stage");
  var movedOn = root.querySelector("[data-moved-on-notice]");
  var etag = '"v' + root.getAttribute("data-version") + '"';
  var version = root.getAttribute("data-version");
  var POLL_MS = 1200;
  var timer = null;

  // A 503 (the server's database is briefly away) is tried again by itself, after the Retry-After
  // the server names, a few times: nothing was stored, and the phone keeps what was chosen.
  function jsonPost(url, body, attempt) {
    attempt = attempt || 0;
    return fetch(url, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      if (r.status === 503 && attempt < 4) {
        var wait = Math.min(Number(r.headers.get("Retry-After")) || 3, 10) * 1000;
        return new Promise(function (resolve) { setTimeout(resolve, wait); })
          .then(function () { return jsonPost(url, body, attempt + 1); });
      }
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  function say(el, text, kind) {
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
    el.classList.toggle("notice-error", kind === "error");
    el.classList.toggle("notice-success", kind !== "error");
    if (text) el.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  // --- the open vote -------------------------------------------------------------------------
  function answerOf(form) {
    var type = form.getAttribute("data-type");
    if (type === "choice") {
      var chosen = form.querySelector("input[name=choice]:checked");
      return chosen ? { body: { choice: chosen.value }, shown: chosen.value } : null;
    }
    if (type === "scale") {
      var point = form.querySelector("input[name=value]:checked");
      return point ? { body: { value: Number(point.value) }, shown: point.value } : null;
    }
    if (type === "ranking") {
      var selects = Array.prototype.slice.call(form.querySelectorAll("select[name=ranking]"));
      var keys = selects.map(function (s) { return s.value; });
      if (keys.some(function (k) { return !k; }) || new Set(keys).size !== keys.length) return null;
      var names = selects.map(function (s) { return s.options[s.selectedIndex].text; });
      var short = names.slice(0, 3).join(", ") + (names.length > 3 ? ", …" : "");
      return { body: { ranking: keys }, shown: names.join(", "), short: short };
    }
    var text = form.querySelector("textarea[name=text]");
    return text && text.value.trim() ? { body: { text: text.value }, shown: "" } : null;
  }

  function bindPoll(scope) {
    var form = scope.querySelector("[data-poll-form]");
    if (!form) return;
    var status = form.querySelector("[data-answer-status]");
    var button = form.querySelector("[data-answer-button]");
    form.addEventListener("input", function () { form.setAttribute("data-dirty", "1"); });
    form.addEventListener("change", function () { form.setAttribute("data-dirty", "1"); });
    bindRanking(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var answer = answerOf(form);
      if (!answer) { say(status, form.getAttribute("data-incomplete") || "", "error"); return; }
      if (button.disabled) return;  // a double tap sends once
      button.disabled = true;
      jsonPost(form.getAttribute("action"), answer.body)
        .then(function (result) {
          if (result.status === 200 || result.status === 201) {
            form.removeAttribute("data-dirty");
            var saved = form.getAttribute("data-saved").replace("{answer}", answer.short || answer.shown);
            say(status, saved + (/[.!?…]$/.test(saved) ? " " : ". ") + (status.getAttribute("data-later") || ""), "ok");
            button.textContent = form.getAttribute("data-change");
          } else {
            say(status, (result.data.error && result.data.error.message) || root.getAttribute("data-failed"), "error");
            if (result.status === 409 || result.status === 404 || result.status === 410) check(true);
          }
        })
        .catch(function () { say(status, root.getAttribute("data-failed"), "error"); })
        .then(function () { button.disabled = false; });
    });
  }

  // Ranking by tapping the items in order (with undo); the selects stay the form's fields.
  function bindRanking(form) {
    var fallback = form.querySelector("[data-rank-fallback]");
    if (!fallback) return;
    var selects = Array.prototype.slice.call(fallback.querySelectorAll("select"));
    var options = Array.prototype.slice.call(selects[0].options).filter(function (o) { return o.value; });
    var order = selects.map(function (s) { return s.value; }).filter(Boolean);
    if (new Set(order).size !== order.length || (order.length && order.length !== options.length)) order = [];
    var list = document.createElement("ol");
    list.className = "rank-taps";
    var buttons = options.map(function (option) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "rank-tap";
      button.innerHTML = '<span class="rank-number" aria-hidden="true"></span><span class="rank-text"></span>';
      button.querySelector(".rank-text").textContent = option.text;
      button.addEventListener("click", function () {
        if (order.indexOf(option.value) === -1) order.push(option.value);
        sync();
      });
      item.appendChild(button);
      list.appendChild(item);
      return { key: option.value, text: option.text, button: button };
    });
    var tools = document.createElement("div");
    tools.className = "rank-tools";
    var undo = document.createElement("button");
    undo.type = "button";
    undo.className = "small-button";
    undo.textContent = fallback.getAttribute("data-undo");
    undo.addEventListener("click", function () { order.pop(); sync(); });
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "small-button";
    clear.textContent = fallback.getAttribute("data-clear");
    clear.addEventListener("click", function () { order = []; sync(); });
    tools.appendChild(undo);
    tools.appendChild(clear);
    function sync() {
      selects.forEach(function (select, i) { select.value = order[i] || ""; });
      buttons.forEach(function (b) {
        var place = order.indexOf(b.key);
        b.button.querySelector(".rank-number").textContent = place === -1 ? "" : String(place + 1);
        b.button.setAttribute("aria-pressed", place === -1 ? "false" : "true");
        b.button.setAttribute("aria-label", (place === -1 ? "" : fallback.getAttribute("data-place").replace("{n}", place + 1) + ": ") + b.text);
      });
      undo.disabled = clear.disabled = !order.length;
      form.setAttribute("data-dirty", "1");
    }
    selects.forEach(function (select) { select.required = false; });
    fallback.hidden = true;
    fallback.parentNode.insertBefore(tools, fallback);
    fallback.parentNode.insertBefore(list, tools);
    var hint = form.querySelector("#rank-hint");
    if (hint) hint.textContent = hint.getAttribute("data-tap-hint");
    sync();
    form.removeAttribute("data-dirty");
  }

  // --- following the room -------------------------------------------------------------------
  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector(".live");
    var old = box.querySelector(".live");
    if (!fresh || !old) return;
    var oldForm = old.querySelector("[data-poll-form]");
    var samePoll = old.getAttribute("data-poll") && old.getAttribute("data-poll") === fresh.getAttribute("data-poll");
    var busy = oldForm && (oldForm.hasAttribute("data-dirty") || oldForm.contains(document.activeElement));
    if (samePoll && busy) {
      // The same vote is still open: keep the form as it is, with what was chosen or typed.
      var freshForm = fresh.querySelector("[data-poll-form]");
      if (freshForm) freshForm.replaceWith(oldForm);
    } else if (oldForm && oldForm.hasAttribute("data-dirty")) {
      var typed = oldForm.querySelector("textarea[name=text]");
      showMovedOn(typed && typed.value.trim() ? typed.value : null);
    } else if (movedOn) {
      movedOn.hidden = true;  // an older notice goes once the room moves on again
    }
    var oldEvaluation = old.querySelector("#evaluation");
    var freshEvaluation = fresh.querySelector("#evaluation");
    if (oldEvaluation && freshEvaluation && (oldEvaluation.hasAttribute("data-dirty") || oldEvaluation.contains(document.activeElement))) {
      freshEvaluation.replaceWith(oldEvaluation);
    }
    var opened = fresh.getAttribute("data-poll") && fresh.getAttribute("data-poll") !== old.getAttribute("data-poll");
    old.replaceWith(document.adoptNode(fresh));
    bindPoll(fresh);
    bindDirty(fresh);
    if (opened) {  // a vote just opened: bring the question and its options into view
      var poll = fresh.querySelector("[data-poll-form]");
      if (poll) poll.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }

  function showMovedOn(draft) {  // draft: unsent text, or null when only a choice was not sent
    if (!movedOn) return;
    movedOn.textContent = root.getAttribute(draft === null ? "data-moved-on-choice" : "data-moved-on");
    if (draft) {
      var keep = document.createElement("textarea");
      keep.readOnly = true;
      keep.rows = 3;
      keep.value = draft;
      movedOn.appendChild(keep);
    }
    movedOn.hidden = false;
  }

  function bindDirty(scope) {
    var evaluation = scope.querySelector("#evaluation");
    if (evaluation) evaluation.addEventListener("input", function () { evaluation.setAttribute("data-dirty", "1"); });
  }

  function refreshStage(newVersion) {
    return fetch(stageUrl, { cache: "no-store", credentials: "same-origin" }).then(function (r) {
      if (r.status === 403) { window.location.reload(); return; }
      if (!r.ok && r.status !== 410) throw new Error(r.status);
      return r.text().then(function (html) { swap(html); version = newVersion; });
    });
  }

  var offline = root.querySelector("[data-offline]"), failures = 0;
  function connected(ok) {
    failures = ok ? 0 : failures + 1;
    if (offline) offline.hidden = failures < 2;  // one lost request is not worth a word
  }

  function check(now) {
    clearTimeout(timer);
    fetch(stateUrl, { cache: "no-store", credentials: "same-origin", headers: { "If-None-Match": etag } })
      .then(function (r) {
        connected(r.status < 500);  // a server without its database counts as offline too
        if (r.status === 304 || !r.ok) return null;
        return r.json().then(function (state) { return { state: state, etag: r.headers.get("ETag") }; });
      })
      .then(function (result) {
        if (!result) return;
        if (String(result.state.version) !== String(version)) {
          if (!box) { window.location.reload(); return; }  // not joined yet: the page itself changes
          // The version and ETag count only once the new step is on the screen: a failed fetch retries.
          return refreshStage(result.state.version).then(function () { etag = result.etag || etag; });
        }
        etag = result.etag || etag;
      })
      .catch(function () { connected(false); /* the next check catches up */ })
      .then(function () { timer = setTimeout(check, POLL_MS); });
    return now;
  }

  // --- contributions ---------------------------------------------------------------------------
  function bindContribution() {
    var form = document.getElementById("contribute");
    if (!form) return;
    var field = form.querySelector("textarea");
    var counter = form.querySelector("[data-counter]");
    var warning = form.querySelector("[data-contribution-warning]");
    var status = form.querySelector("[data-contribution-status]");
    var send = form.querySelector("[data-send-button]");
    var confirm = form.querySelector("[data-confirm-button]");
    var limit = Number(field.getAttribute("data-limit"));
    field.removeAttribute("maxlength");  // a long paste is kept and refused with the limit shown, not cut
    function count() {
      var n = field.value.length;
      var tooLong = n > limit;
      counter.textContent = (tooLong ? counter.getAttribute("data-too-long") : counter.getAttribute("data-template"))
        .replace("{n}", n).replace("{limit}", limit);
      counter.classList.toggle("too-long", tooLong);
      send.disabled = confirm.disabled = tooLong;
    }
    field.addEventListener("input", function () { count(); confirm.hidden = true; say(warning, "", "error"); });
    count();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!field.value.trim() || field.value.length > limit || send.disabled) return;
      var confirmed = event.submitter === confirm;
      send.disabled = confirm.disabled = true;
      jsonPost(form.getAttribute("action"), { text: field.value, confirm: confirmed })
        .then(function (result) {
          if (result.status === 201) {
            field.value = "";
            confirm.hidden = true;
            say(warning, "", "error");
            say(status, form.getAttribute("data-thanks"), "ok");
          } else {
            say(status, "", "ok");
            say(warning, (result.data.error && result.data.error.message) || root.getAttribute("data-failed"), "error");
            confirm.hidden = !(result.data.error && result.data.error.code === "personal_data");
          }
        })
        .catch(function () { say(warning, root.getAttribute("data-failed"), "error"); })
        .then(function () { count(); });
    });
  }

  bindPoll(document);
  bindDirty(document);
  var openPoll = document.querySelector("[data-poll-form]");
  if (openPoll && !window.location.hash) openPoll.scrollIntoView({ block: "start" });
  bindContribution();
  window.addEventListener("online", function () { check(true); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") check(true); });
  timer = setTimeout(check, POLL_MS);
})();
