// A running background job's page: poll its status.json each second, move the bar, and
// reload the page once the job has finished (the result, errors and file are rendered there).
(function () {
  "use strict";
  function start() {
    var page = document.querySelector(".admin-job[data-status-url]");
    if (!page) { return; }
    var bar = page.querySelector(".job-progress");
    var rows = page.querySelector(".job-rows");
    var status = page.querySelector(".job-status");
    function poll() {
      fetch(page.dataset.statusUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { window.setTimeout(poll, 3000); return; }
          if (data.finished) { window.location.reload(); return; }
          bar.value = data.percent;
          status.textContent = data.status;
          rows.textContent = data.rows_done + " of " + (data.rows_total === null ? "?" : data.rows_total) +
            " rows (" + data.percent + "%)";
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 1000);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
