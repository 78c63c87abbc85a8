// Goals page: show each slider's share of the whole as the sliders move.
// Without this script the page still works; the shares update after saving.
(function () {
  "use strict";
  function update(form) {
    var sliders = form.querySelectorAll('input[type="range"][data-topic]');
    var total = 0;
    sliders.forEach(function (s) { total += Number(s.value); });
    sliders.forEach(function (s) {
      var out = form.querySelector('[data-share-for="' + s.dataset.topic + '"]');
      if (out) { out.textContent = total > 0 ? Math.round(100 * Number(s.value) / total) + "%" : "0%"; }
    });
  }
  function wire() {
    document.querySelectorAll("form[data-mix-form]").forEach(function (form) {
      if (form.dataset.wired) { return; }
      form.dataset.wired = "1";
      form.addEventListener("input", function () { update(form); });
      update(form);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", wire); } else { wire(); }
  document.addEventListener("htmx:afterSettle", wire);
})();
