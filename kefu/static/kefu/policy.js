// Policy parameter form: show the running total of a parameter's parts (e.g. weights adding up to 100).
(function () {
  function update(fieldset) {
    var sum = 0;
    var ok = true;
    fieldset.querySelectorAll(".js-policy-part").forEach(function (input) {
      var text = input.value.trim();
      if (text === "") { return; }
      var n = Number(text);
      if (isNaN(n)) { ok = false; } else { sum += n; }
    });
    var wrap = fieldset.querySelector(".js-parts-sum-wrap");
    var out = fieldset.querySelector(".js-parts-sum");
    if (!wrap || !out) { return; }
    var total = Number(fieldset.dataset.partsTotal);
    out.textContent = ok ? String(Math.round(sum * 100) / 100) : "?";
    out.classList.toggle("text-danger", !ok || Math.abs(sum - total) > 1e-9);
    out.classList.toggle("text-success", ok && Math.abs(sum - total) <= 1e-9);
    wrap.classList.remove("d-none");
  }
  document.addEventListener("input", function (event) {
    var fieldset = event.target.closest && event.target.closest("[data-parts-total]");
    if (fieldset && fieldset.dataset.partsTotal !== "") { update(fieldset); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-parts-total]").forEach(function (fieldset) {
      if (fieldset.dataset.partsTotal !== "") { update(fieldset); }
    });
  });
})();
