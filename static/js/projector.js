// Projector: follows the session by polling its state (304 while nothing changes), fits the stage
// to the screen and pages what still does not fit, so nothing is ever cut off.
(function () {
  "use strict";
  var root = document.querySelector(".projector-layout");
  if (!root) return;
  var stateUrl = root.getAttribute("data-state-url");
  var stageUrl = root.getAttribute("data-stage-url");
  var stage = document.getElementById("stage");
  var version = root.getAttribute("data-version");
  var etag = null;
  var FIT_FLOOR = 0.86;   // sizes never shrink below 86 % (36 px body text at 1080p)
  var PAGE_SECONDS = 8;   // a page stays at least this long, longer when it holds more to read
  var SECONDS_PER_WORD = 0.3;  // about 200 words a minute, read from a screen at the back of a room
  var PAGE_SECONDS_MAX = 45;
  var pageTimer = null;
  var paged = [];

  function body() { return stage.querySelector("[data-fit]"); }
  // scrollHeight never drops below the frame's own height: measure what the content takes up.
  function contentHeight(frame) {
    var top = frame.getBoundingClientRect().top, bottom = top;
    Array.prototype.forEach.call(frame.children, function (child) {
      if (child.offsetParent !== null || child.getClientRects().length) bottom = Math.max(bottom, child.getBoundingClientRect().bottom);
    });
    return bottom - top;
  }
  function overflows(el) { return el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1; }

  function indicatorFor(pager) {
    var indicator = document.createElement("p");
    indicator.className = "pager-indicator";
    indicator.textContent = "1/1";
    pager.parentNode.insertBefore(indicator, pager.nextSibling);
    return indicator;
  }

  // Split a pager's items into pages no taller than budget (measured by trying, whatever the layout).
  function paginate(pager, budget) {
    var items = Array.prototype.slice.call(pager.children);
    var pages = [], current = [];
    items.forEach(function (item) { item.hidden = true; });
    items.forEach(function (item) {
      item.hidden = false;
      if (current.length && pager.offsetHeight > budget) {
        item.hidden = true;
        current.forEach(function (done) { done.hidden = true; });
        pages.push(current);
        current = [];
        item.hidden = false;
      }
      current.push(item);
    });
    if (current.length) pages.push(current);
    return pages;
  }

  function show(p) {
    p.pages.forEach(function (page, index) {
      page.forEach(function (item) { item.hidden = index !== p.index; });
    });
    p.indicator.textContent = (p.index + 1) + "/" + p.pages.length;
    p.indicator.hidden = p.pages.length < 2;
  }

  function setFit(scale) { document.body.style.setProperty("--fit", String(scale)); }

  function fit() {
    clearTimeout(pageTimer);
    paged = [];
    var frame = body();
    if (!frame) return;
    stage.querySelectorAll(".pager-indicator").forEach(function (el) { el.remove(); });
    stage.querySelectorAll("[data-pager] > *").forEach(function (el) { el.hidden = false; });
    // Measure afresh with the prompt in place: left folded by an earlier fit (before the fonts
    // loaded, a longer text), it would make the step seem to fit, unfold, and then page for nothing.
    var root = stage.querySelector(".stage");
    if (root) root.classList.remove("folded");
    var scale = 1;
    setFit(scale);
    while (overflows(frame) && scale > FIT_FLOOR + 0.001) {
      scale = Math.max(FIT_FLOOR, scale - 0.02);
      setFit(scale);
    }
    // Then fold the step's prompt away (the phones and the facilitator still show it), then page.
    if (root) root.classList.toggle("folded", overflows(frame));
    if (overflows(frame)) page(frame);
    // Last resort, so that nothing is ever cut off: one item alone taller than the screen.
    while (overflows(frame) && scale > 0.5) {
      scale -= 0.04;
      setFit(scale);
    }
    schedule();
  }

  // Water-filling: a short list keeps all it needs, the long ones share what is left equally.
  // Every list gets at least its tallest item (less cannot be paged); minimum[i] <= natural[i].
  function share(room, natural, minimum) {
    var budgets = minimum.slice(), order = natural.map(function (h, i) { return i; });
    order.sort(function (a, b) { return natural[a] - natural[b]; });
    var left = room - minimum.reduce(function (sum, h) { return sum + h; }, 0);
    order.forEach(function (i, n) {
      var extra = Math.max(0, Math.min(natural[i] - minimum[i], left / (order.length - n)));
      budgets[i] += extra;
      left -= extra;
    });
    return budgets;
  }

  function tallestItem(pager) {
    var items = Array.prototype.slice.call(pager.children), tallest = 0;
    items.forEach(function (item) { item.hidden = true; });
    items.forEach(function (item) {
      item.hidden = false;
      tallest = Math.max(tallest, pager.offsetHeight);
      item.hidden = true;
    });
    return tallest;
  }

  // Share the room the fixed parts leave among the lists, and page each.
  function page(frame) {
    var pagers = Array.prototype.slice.call(frame.querySelectorAll("[data-pager]"));
    if (!pagers.length) return;
    var natural = pagers.map(function (pager) { return pager.offsetHeight; });
    var all = pagers.map(function (pager) {
      return { pager: pager, indicator: indicatorFor(pager), pages: [], index: 0 };
    });
    var minimum = pagers.map(tallestItem);  // leaves every item hidden
    var room = frame.clientHeight - contentHeight(frame) + pagers.reduce(function (sum, p) { return sum + p.offsetHeight; }, 0);
    for (var attempt = 0; attempt < 4; attempt++) {
      var budgets = share(room, natural, minimum);
      all.forEach(function (p, i) {
        p.pages = paginate(p.pager, Math.max(1, budgets[i]));
        p.index = 0;
        show(p);
      });
      var over = frame.scrollHeight - frame.clientHeight;
      if (over <= 1) break;
      room -= over;
    }
    paged = all.filter(function (p) { return p.pages.length > 1; });
  }

  function pageSeconds() {
    var words = 0;
    paged.forEach(function (p) {
      p.pages[p.index].forEach(function (item) { words += (item.textContent.match(/\S+/g) || []).length; });
    });
    return Math.min(PAGE_SECONDS_MAX, Math.max(PAGE_SECONDS, words * SECONDS_PER_WORD));
  }

  function nextPage() {
    paged.forEach(function (p) { p.index = (p.index + 1) % p.pages.length; show(p); });
    schedule();
  }

  function schedule() {
    clearTimeout(pageTimer);
    if (paged.length) pageTimer = setTimeout(nextPage, pageSeconds() * 1000);
  }
  window.beraadNextPage = nextPage;  // also for a presenter's clicker: see the key handler below
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight" || event.key === "PageDown" || event.key === " ") { event.preventDefault(); nextPage(); }
  });

  function refreshStage() {
    return fetch(stageUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        stage.innerHTML = html;
        window.beraadTimer && window.beraadTimer(stage);
        fit();
      });
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
        root.classList.remove("status-lobby", "status-running", "status-closed");
        root.classList.add("status-" + state.status);
        root.classList.toggle("join-large", state.status === "lobby" || !!state.show_join);
        document.querySelectorAll("[data-live=participants]").forEach(function (el) { el.textContent = state.participants; });
        document.querySelectorAll("[data-live=answers]").forEach(function (el) { if (state.poll) el.textContent = state.poll.answers; });
        if (String(state.version) !== String(version)) {
          version = state.version;
          return refreshStage();
        }
      })
      .catch(function () { /* offline for a moment: try again */ })
      .then(function () { setTimeout(poll, 700); });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(fit, 150); });
  window.beraadTimer && window.beraadTimer(document);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(fit); else fit();
  fit();
  setTimeout(poll, 700);
})();
