/* carepath dashboard: draws each figure from its data-figure JSON with the plotly.js that
   /app/static serves from the Python package (nothing from a CDN; no inline scripts). */
(function () {
  "use strict";
  const config = { displaylogo: false, responsive: true };
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    const spec = JSON.parse(el.getAttribute("data-figure"));
    window.Plotly.newPlot(el, spec.data, spec.layout || {}, config);
  });
})();
