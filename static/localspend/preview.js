// The preview of a spend file ("Check how the file will be read"): the sample
// table tags each column with the item read from it, or "not read". When a
// "Which column holds each item?" answer changes, the tags follow it. Without
// JavaScript the tags show what LocalSpend proposed, and the page works the same.
(function () {
  "use strict";

  function tag(label) {
    var strong = document.createElement("strong");
    strong.className = "govuk-tag govuk-tag--blue";
    strong.textContent = label;
    return strong;
  }

  function notRead() {
    var span = document.createElement("span");
    span.className = "govuk-body-s ls-muted";
    span.textContent = "not read";
    return span;
  }

  // Each column's heading keeps its text; what follows its first line break
  // (the tags) is drawn again from the answers, in the order they are asked.
  function sync(block) {
    var selects = block.querySelectorAll("select[data-ls-item]");
    block.querySelectorAll("th[data-ls-column]").forEach(function (heading) {
      var column = heading.dataset.lsColumn;
      var first = heading.querySelector("br");
      while (first && first.nextSibling) {
        heading.removeChild(first.nextSibling);
      }
      if (first) {
        heading.removeChild(first);
      }
      var labels = [];
      selects.forEach(function (select) {
        if (select.value === column) {
          labels.push(select.dataset.lsItem);
        }
      });
      if (labels.length === 0) {
        heading.appendChild(document.createElement("br"));
        heading.appendChild(notRead());
      }
      labels.forEach(function (label) {
        heading.appendChild(document.createElement("br"));
        heading.appendChild(tag(label));
      });
    });
  }

  // The VAT note: for a file of one layout, the server gives the words for each
  // answer and each amount column (#ls-vat-choices); the one chosen is shown.
  var choices = document.getElementById("ls-vat-choices");
  var note = document.querySelector("[data-ls-vat-note]");
  if (choices && note) {
    var words = JSON.parse(choices.textContent);
    var form = note.closest("form");
    var showVat = function () {
      var amount = form.querySelector('select[name="b0-amount"]');
      var answer = form.querySelector(
        'select[name="vat_basis"], [name="vat_basis"]:checked'
      );
      var forAnswer = words[answer ? answer.value || "unknown" : "unknown"];
      var chosen = forAnswer && amount ? forAnswer[amount.value] : null;
      if (!chosen) {
        return;
      }
      var warning = note.querySelector("[data-ls-vat-warning]");
      var inset = note.querySelector("[data-ls-vat-inset]");
      warning.querySelector("[data-ls-vat-text]").textContent = chosen.warning
        ? chosen.text
        : "";
      inset.textContent = chosen.warning ? "" : chosen.text;
      warning.hidden = !chosen.warning;
      inset.hidden = chosen.warning || !chosen.text;
    };
    form.addEventListener("change", function (event) {
      if (event.target.name === "b0-amount" || event.target.name === "vat_basis") {
        showVat();
      }
    });
    window.addEventListener("pageshow", showVat);
    showVat();
  }

  document.querySelectorAll("[data-ls-preview-block]").forEach(function (block) {
    block.addEventListener("change", function (event) {
      if (event.target.matches("select[data-ls-item]")) {
        sync(block);
      }
    });
    // Answers kept by the browser (back, reload) or sent back with an error.
    window.addEventListener("pageshow", function () {
      sync(block);
    });
    sync(block);
  });
})();
