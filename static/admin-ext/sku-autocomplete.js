// SKU code suggestions for the stock forms: as you type, the admin's own autocomplete
// endpoint (the SKU admin's search) fills the <datalist id="sku-codes">.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.url;
  var list = document.getElementById("sku-codes");
  if (!url || !list) { return; }
  var timer = null;
  var last = "";
  function suggest(term) {
    var query = "?app_label=stock&model_name=stocklevel&field_name=sku&term=" + encodeURIComponent(term);
    fetch(url + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {results: []}; })
      .then(function (data) {
        list.replaceChildren();
        (data.results || []).slice(0, 20).forEach(function (item) {
          var option = document.createElement("option");
          option.value = item.text;
          list.appendChild(option);
        });
      })
      .catch(function () { list.replaceChildren(); });
  }
  document.querySelectorAll("input.sku-autocomplete").forEach(function (input) {
    input.addEventListener("input", function () {
      var term = input.value.trim();
      if (term.length < 2 || term === last) { return; }
      last = term;
      clearTimeout(timer);
      timer = setTimeout(function () { suggest(term); }, 150);
    });
  });
})();
