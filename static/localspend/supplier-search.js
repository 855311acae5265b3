// A contract's supplier, searchable: the <select> of every supplier the council
// deals with (hundreds, in a real council) becomes GOV.UK's accessible
// autocomplete, which lists the suppliers whose names hold every word typed
// (in any case, with or without apostrophes and accents). Without JavaScript
// the <select> stays as it is.
//
// What is sent is always what the box shows: a supplier's name chosen from the
// list sends that supplier; an empty box sends none (a contract still in the
// pipeline); any other text sends a choice that is no supplier, so the form
// says "Choose a supplier from the list" (QA: a name typed over a chosen one
// saved the one chosen before, unseen).
(function () {
  "use strict";
  var autocomplete = window.accessibleAutocomplete;
  if (!autocomplete) return;

  function fold(text) {
    return text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/&/g, " and ")
      .replace(/[^a-z0-9 ]+/g, "")
      .replace(/\s+/g, " ")
      .trim();
  }

  document.querySelectorAll("select[data-ls-search]").forEach(function (select) {
    var named = Array.prototype.filter.call(select.options, function (option) {
      return option.value !== "";
    });
    var folded = named.map(function (option) { return fold(option.textContent); });
    var chosen = select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
    var hints = select.getAttribute("aria-describedby");
    var id = select.id;
    // The choice for text that names no supplier: refused by the form.
    var nobody = document.createElement("option");
    nobody.value = "-1";
    nobody.textContent = "";

    function match(text) {
      var exact = named.filter(function (option) { return option.textContent === text; });
      if (exact.length) return exact[0];
      var key = fold(text);
      var same = named.filter(function (_, i) { return folded[i] === key; });
      return same.length === 1 ? same[0] : null;
    }

    function choose(text) {
      if (text.trim() === "") {
        select.value = "";
        return;
      }
      var option = match(text);
      if (option) {
        select.value = option.value;
      } else {
        if (!nobody.parentNode) select.appendChild(nobody);
        nobody.textContent = text;
        select.value = nobody.value;
      }
    }

    autocomplete.enhanceSelectElement({
      selectElement: select,
      source: function (query, populate) {
        var words = fold(query).split(" ").filter(Boolean);
        populate(
          named
            .filter(function (_, i) {
              return words.every(function (word) { return folded[i].indexOf(word) !== -1; });
            })
            .map(function (option) { return option.textContent; })
        );
      },
      defaultValue: chosen && chosen.value !== "" ? chosen.textContent : "",
      minLength: 1,
      confirmOnBlur: false, // leaving the box never picks a name not chosen
      showNoOptionsFound: true,
      displayMenu: "list",
      tNoResults: function () {
        return "No supplier of this council has that name";
      },
      onConfirm: function (name) {
        if (name !== undefined) choose(name);
      },
    });
    var input = document.getElementById(id);
    if (!input) return;
    ["input", "change", "blur"].forEach(function (event) {
      input.addEventListener(event, function () { choose(input.value); });
    });
    // Back to the page (the browser's cache, or its restoring of form values):
    // the choice is set again from what the box shows (review: it showed one
    // supplier and sent the one chosen before leaving).
    window.addEventListener("pageshow", function () { choose(input.value); });
    choose(input.value);
    if (hints) {
      // The field's own hint and error, read out with the box as with the list:
      // kept whenever the library sets its own (it drops them as one types).
      var describe = function () {
        var own = input.getAttribute("aria-describedby") || "";
        if (own.split(" ").indexOf(hints.split(" ")[0]) === -1) {
          input.setAttribute("aria-describedby", (hints + " " + own).trim());
        }
      };
      describe();
      new MutationObserver(describe).observe(input, {
        attributes: true,
        attributeFilter: ["aria-describedby"],
      });
    }
  });
})();
