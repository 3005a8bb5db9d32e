// Dilemma bank: the dilemmas ticked "Print as card" are remembered across the pages and searches of
// the list (in this tab only, sessionStorage), so cards can be picked from several pages and printed
// at once. Without JavaScript the form still prints what is ticked on the page.
(function () {
  "use strict";
  var form = document.querySelector("form.card-print");
  if (!form) return;
  var KEY = "beraad-card-picks";
  var picks = [];
  try { picks = JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { picks = []; }
  if (!Array.isArray(picks)) picks = [];
  picks = picks.filter(function (slug) { return typeof slug === "string" && /^[a-z0-9-]{1,120}$/.test(slug); });
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[type=checkbox][name=id]"));
  var counter = form.querySelector("[data-pick-count]");
  var clear = form.querySelector("[data-clear-picks]");

  function save() { try { sessionStorage.setItem(KEY, JSON.stringify(picks)); } catch (e) { /* private mode */ } }
  function show() {
    if (counter) {
      counter.textContent = (picks.length === 1 ? counter.getAttribute("data-one") : counter.getAttribute("data-many"))
        .replace("%d", picks.length);
      counter.hidden = picks.length === 0;
    }
    if (clear) clear.hidden = picks.length === 0;
  }
  function pick(slug, on) {
    var at = picks.indexOf(slug);
    if (on && at < 0) picks.push(slug);
    if (!on && at >= 0) picks.splice(at, 1);
  }

  boxes.forEach(function (box) {
    if (box.checked) pick(box.value, true);  // ticked by the address (?id=...)
    box.checked = picks.indexOf(box.value) >= 0;
    box.addEventListener("change", function () { pick(box.value, box.checked); save(); show(); });
  });
  if (clear) {
    clear.addEventListener("click", function () {
      picks = [];
      boxes.forEach(function (box) { box.checked = false; });
      save(); show();
    });
  }
  save(); show();

  // Send the picks of other pages too, as hidden fields beside this page's boxes.
  form.addEventListener("submit", function () {
    var here = boxes.map(function (box) { return box.value; });
    form.querySelectorAll("input[data-carried]").forEach(function (el) { el.remove(); });
    picks.forEach(function (slug) {
      if (here.indexOf(slug) >= 0) return;
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "id"; input.value = slug; input.setAttribute("data-carried", "");
      form.appendChild(input);
    });
  });
})();
