// Live Markdown preview for the dilemma editor: the server renders and sanitises.
(function () {
  "use strict";
  var input = document.querySelector("[data-preview-url]");
  if (!input) return;
  var target = document.getElementById(input.getAttribute("data-preview-target"));
  var url = input.getAttribute("data-preview-url");
  var tokenField = document.querySelector("input[name=csrf_token]");
  var timer = null;
  var last = null;

  function refresh() {
    if (input.value === last) return;
    last = input.value;
    var body = new FormData();
    body.append("body", input.value);
    if (tokenField) body.append("csrf_token", tokenField.value);
    fetch(url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) { target.innerHTML = html; })
      .catch(function () { /* keep the last good preview */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
})();
