// The product page's variant grid: tick rows, fill them in bulk, add a row. Nothing is saved
// here: the grid is part of the product form and "Save" posts it. A price change by an amount
// or a percentage is computed by the server (the catalog's price rule), not in the browser.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var module = document.getElementById("variants");
    var grid = document.getElementById("variant-grid");
    if (!module || !grid) { return; }
    var body = grid.tBodies[0];
    var note = document.getElementById("variant-bulk-note");

    function picked() {
      return Array.prototype.filter.call(body.querySelectorAll("tr.variant-row"), function (row) {
        var box = row.querySelector("input.variant-pick");
        return box && box.checked;
      });
    }
    function say(text) { if (note) { note.textContent = text; } }
    function changed(row) { row.classList.add("changed"); }
    function countPicked() {
      var shown = document.getElementById("variant-selected");
      if (shown) { shown.textContent = String(picked().length); }
    }

    body.addEventListener("input", function (event) {
      if (!event.target.classList.contains("variant-pick")) { changed(event.target.closest("tr")); }
    });
    body.addEventListener("change", function (event) {
      if (event.target.classList.contains("variant-pick")) { countPicked(); return; }
      changed(event.target.closest("tr"));
    });
    var all = document.getElementById("variant-pick-all");
    if (all) {
      all.addEventListener("change", function () {
        body.querySelectorAll("input.variant-pick").forEach(function (box) { box.checked = all.checked; });
        countPicked();
      });
    }

    function setField(rows, suffix, value) {
      rows.forEach(function (row) {
        var input = row.querySelector("[name='" + row.dataset.key + suffix + "']");
        if (input && input.value !== value) { input.value = value; changed(row); }
      });
    }

    function click(id, handler) {
      var button = document.getElementById(id);
      if (button) { button.addEventListener("click", handler); }
    }

    click("bulk-price-apply", function () {
      var rows = picked();
      if (!rows.length) { say("Tick the rows to change first."); return; }
      var form = new FormData();
      form.append("how", document.getElementById("bulk-price-how").value);
      form.append("value", document.getElementById("bulk-price-value").value);
      rows.forEach(function (row) { form.append("price", row.querySelector("[name$='-price']").value); });
      var token = document.querySelector("[name=csrfmiddlewaretoken]");
      fetch(module.dataset.priceUrl, {method: "POST", body: form, credentials: "same-origin",
                                      headers: {"X-CSRFToken": token ? token.value : ""}})
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answer.error) { say(answer.error); return; }
          rows.forEach(function (row, i) { setField([row], "-price", answer.prices[i]); });
          say(rows.length + " prices filled in; save to keep them.");
        })
        .catch(function () { say("The prices could not be computed; try again."); });
    });

    function attributeColumn(key) {
      var headers = grid.tHead.rows[0].querySelectorAll("th.attr");
      for (var i = 0; i < headers.length; i++) {
        if (headers[i].querySelector("input").value === key) { return Number(headers[i].dataset.index); }
      }
      // A new attribute: a new column, empty in every row.
      var counter = document.getElementById("variant-attr-columns");
      var index = Number(counter.value);
      counter.value = String(index + 1);
      var th = document.createElement("th");
      th.className = "attr";
      th.dataset.index = String(index);
      th.innerHTML = '<input type="hidden" name="attr-' + index + '">';
      th.querySelector("input").value = key;
      th.appendChild(document.createTextNode(key));
      var before = grid.tHead.rows[0].querySelector("th.status");
      grid.tHead.rows[0].insertBefore(th, before);
      body.querySelectorAll("tr.variant-row").forEach(function (row) {
        var td = document.createElement("td");
        td.className = "attr";
        td.innerHTML = '<input type="text" aria-label="attribute">';
        td.querySelector("input").name = row.dataset.key + "-a" + index;
        row.insertBefore(td, row.querySelector("td.status"));
      });
      return index;
    }

    click("bulk-attr-apply", function () {
      var rows = picked();
      var key = document.getElementById("bulk-attr-key").value.trim();
      if (!rows.length || !key) { say("Tick the rows and name the attribute first."); return; }
      var index = attributeColumn(key);
      setField(rows, "-a" + index, document.getElementById("bulk-attr-value").value);
      say(key + " set on " + rows.length + " rows; save to keep it.");
    });
    click("bulk-activate", function () { setField(picked(), "-status", "active"); say("Save to keep the change."); });
    click("bulk-deactivate", function () { setField(picked(), "-status", "inactive"); say("Save to keep the change."); });
    click("bulk-backorder-apply", function () {
      setField(picked(), "-backorder_policy", document.getElementById("bulk-backorder").value);
      say("Save to keep the change.");
    });

    click("variant-add-row", function () {
      var counter = document.getElementById("variant-new-rows");
      var index = Number(counter.value);
      var template = body.querySelector("tr.variant-new");
      if (!template) { return; }
      var row = template.cloneNode(true);
      var old = template.dataset.key;
      row.dataset.key = "n-" + index;
      row.classList.remove("changed", "refused");
      row.querySelectorAll("[name]").forEach(function (input) {
        input.name = input.name.replace(old + "-", "n-" + index + "-");
        if (input.tagName === "INPUT") { input.value = ""; }
      });
      row.querySelectorAll(".variant-error").forEach(function (error) { error.remove(); });
      body.appendChild(row);
      counter.value = String(index + 1);
      row.querySelector("input[type=text]").focus();
    });
  });
}());
