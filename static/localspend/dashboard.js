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

  // The from and to months count only for "Months chosen below": shown then
  // alone (without JavaScript they always show; their hint says so).
  function months() {
    var period = document.querySelector('[data-field="period"] select');
    if (!period) {
      return;
    }
    var sync = function () {
      document
        .querySelectorAll('[data-field="month_from"], [data-field="month_to"]')
        .forEach(function (group) {
          group.hidden = period.value !== "months";
        });
    };
    period.addEventListener("change", sync);
    window.addEventListener("pageshow", sync);
    sync();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", months);
  } else {
    months();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
