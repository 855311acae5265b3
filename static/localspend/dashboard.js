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
      var narrow = figure.layout.meta && figure.layout.meta.narrow;
      var isNarrow = narrow ? element.clientWidth < narrow.pixels : false;
      if (isNarrow) {
        relaid(figure.layout, narrow.narrow);
      }
      // No mode bar: its buttons would be focusable inside a part of the page
      // hidden from screen readers (the table and CSV carry the data), and one
      // of them offers to send the chart to another site.
      window.Plotly.newPlot(element, figure.data, figure.layout, {
        displayModeBar: false,
        responsive: true,
        showSendToCloud: false,
      }).then(function () {
        follow(element);
        if (narrow) {
          fit(element, narrow, isNarrow);
        }
      });
    });
    document.querySelectorAll(".ls-print").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  // A layout changed by plotly relayout keys ("xaxis.range": […]), before
  // the chart is first drawn.
  function relaid(layout, changes) {
    Object.keys(changes).forEach(function (key) {
      var path = key.split(".");
      var at = layout;
      path.slice(0, -1).forEach(function (part) {
        at[part] = at[part] || {};
        at = at[part];
      });
      at[path[path.length - 1]] = changes[key];
    });
  }

  // A chart drawn otherwise on a phone (the server's "narrow" changes: a
  // shorter projection, fewer amounts on an axis), and its note shown; undone
  // and redone as the plot's width crosses the line (a phone turned).
  function fit(element, narrow, isNarrow) {
    var note = element.parentNode.querySelector(".ls-chart__narrow-note");
    var state = isNarrow;
    var show = function () {
      if (note) {
        note.hidden = !state;
      }
    };
    show();
    window.addEventListener("resize", function () {
      var now = element.clientWidth < narrow.pixels;
      if (now !== state) {
        state = now;
        window.Plotly.relayout(element, now ? narrow.narrow : narrow.wide);
        show();
      }
    });
  }

  // The payments behind what the pointer is on: the link of its cell in the
  // table beside the chart, which the server gives each point as its
  // customdata (a month's share, or one part of a directorate's bar). Where
  // the hover label unites several (a directorate's four parts), the part
  // under the pointer, found from where the parts of a bar are stacked.
  function linkOf(element, event) {
    var points = (event && event.points) || [];
    var linked = points.filter(function (point) {
      return typeof point.customdata === "string" && point.customdata !== "";
    });
    if (!linked.length) {
      return null;
    }
    var bars = linked[0].data && linked[0].data.type === "bar";
    if (!bars) {
      return linked[0].customdata;
    }
    var at = amountAt(element, event.event);
    if (at === null) {
      return linked.length === 1 ? linked[0].customdata : null;
    }
    // Stacked as plotly stacks them ("relative"): in the order of the traces,
    // amounts above nought to the right of it, credits to the left.
    var above = 0;
    var below = 0;
    var found = null;
    points
      .slice()
      .sort(function (a, b) {
        return a.curveNumber - b.curveNumber;
      })
      .forEach(function (point) {
        var value = Number(point.x) || 0;
        var from = value >= 0 ? above : below + value;
        var to = value >= 0 ? above + value : below;
        if (value >= 0) {
          above = to;
        } else {
          below = from;
        }
        if (!found && value !== 0 && at >= from && at <= to) {
          found = point;
        }
      });
    return found && typeof found.customdata === "string" && found.customdata
      ? found.customdata
      : null;
  }

  // The amount on the bars' axis under the pointer, from where it is on the
  // plotting area and the axis's range (the axis is linear), or null.
  function amountAt(element, pointer) {
    var area = element.querySelector(".nsewdrag");
    var axis = element.layout && element.layout.xaxis;
    if (!pointer || !area || !axis || !axis.range) {
      return null;
    }
    var box = area.getBoundingClientRect();
    if (!box.width) {
      return null;
    }
    var low = Number(axis.range[0]);
    var high = Number(axis.range[1]);
    return low + ((pointer.clientX - box.left) / box.width) * (high - low);
  }

  // A click on a point or a bar opens the payments behind it, as its link in
  // the table does (keyboard and screen reader users follow those links: the
  // chart is hidden from screen readers); the pointer says where one will.
  function follow(element) {
    var hint = element.parentNode.querySelector(".ls-chart__hint");
    if (hint) {
      hint.hidden = false;
    }
    var surface = function () {
      return element.querySelector(".nsewdrag");
    };
    element.on("plotly_hover", function (event) {
      var layer = surface();
      if (layer) {
        layer.style.cursor = linkOf(element, event) ? "pointer" : "";
      }
    });
    element.on("plotly_unhover", function () {
      var layer = surface();
      if (layer) {
        layer.style.cursor = "";
      }
    });
    element.on("plotly_click", function (event) {
      var url = linkOf(element, event);
      // Only a path on this site: never another site, nor a script.
      if (url && /^\/(?![\/\\])/.test(url)) {
        window.location.assign(url);
      }
    });
  }

  // The from and to months count only for "Months chosen below", and the
  // financial year only for a whole year or a quarter (months chosen and the
  // last 12 months carry their own years): each shown only when it counts
  // (without JavaScript all show; their hints say so).
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
      document.querySelectorAll('[data-field="year"]').forEach(function (group) {
        group.hidden = period.value === "months" || period.value === "last12";
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
