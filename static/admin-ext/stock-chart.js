// On-hand and available of a SKU over time (Chart.js from static files). Each
// <canvas class="stock-chart" data-series="ID"> reads its points from <script id="ID">.
(function () {
  "use strict";
  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") { return; }
    canvas.dataset.drawn = "1";
    var points = JSON.parse(document.getElementById(canvas.dataset.series).textContent);
    var labels = points.map(function (p) { return p.at.slice(0, 16).replace("T", " "); });
    new Chart(canvas, {
      type: "line",
      data: {
        labels: labels,
        datasets: [
          {label: "On hand", data: points.map(function (p) { return p.on_hand; }), borderColor: "#417690",
           backgroundColor: "#417690", stepped: true, pointRadius: 2},
          {label: "Available", data: points.map(function (p) { return p.available; }), borderColor: "#e6a100",
           backgroundColor: "#e6a100", stepped: true, pointRadius: 2},
        ],
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        interaction: {mode: "index", intersect: false},
        scales: {y: {beginAtZero: true, ticks: {precision: 0}}, x: {ticks: {maxTicksLimit: 8}}},
        plugins: {title: {display: true, text: canvas.dataset.sku + ": on hand and available"}},
      },
    });
  }
  function drawAll() { document.querySelectorAll("canvas.stock-chart").forEach(draw); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", drawAll); } else { drawAll(); }
})();
