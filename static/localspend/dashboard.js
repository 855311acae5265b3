// Draw each dashboard chart from the plotly figure the page carries as JSON,
// with the vendored plotly.js; the table beside each chart holds the same data.
(function () {
  "use strict";

  function draw() {
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.dataset.figure);
      if (!source || !window.Plotly) {
        return;
      }
      var figure = JSON.parse(source.textContent);
      // No mode bar: its buttons would be focusable inside a part of the page
      // hidden from screen readers (the table and CSV carry the data), and one
      // of them offers to send the chart to another site.
      window.Plotly.newPlot(element, figure.data, figure.layout, {
        displayModeBar: false,
        responsive: true,
        showSendToCloud: false,
      });
    });
    document.querySelectorAll(".ls-print").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
