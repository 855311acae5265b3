// A contract's supplier, searchable: the <select> of every supplier the council
// deals with (hundreds, in a real council) becomes GOV.UK's accessible
// autocomplete, which lists the suppliers whose names hold every word typed
// (in any case, with or without apostrophes and accents, "&" or "and", hyphens
// or spaces; legal forms such as Ltd, Limited or LLP aside, so "Ashcroft
// Joinery Ltd" finds "Ashcroft Joinery LLP"). When no name holds them, the
// names with a word within one slip of each word typed are offered under
// "No exact match. Did you mean one of the names listed below?" (QA). Without
// JavaScript the <select> stays as it is.
//
// What is sent is always what the box shows: a supplier's name chosen from the
// list sends that supplier; an empty box sends none (a contract still in the
// pipeline); any other text sends a choice that is no supplier, so the form
// says so (QA: a name typed over a chosen one saved the one chosen before,
// unseen). The text typed is sent too (as "supplier_typed"), so that the
// form's error quotes it and the box shows it again (QA: it came back empty).
(function () {
  "use strict";
  var autocomplete = window.accessibleAutocomplete;
  if (!autocomplete) return;

  // Words a supplier's name may carry or leave off as it likes (procure's
  // normalise_name reads "limited" as "ltd" and so on for the same reason).
  var FORMS = ["ltd", "limited", "llp", "plc", "the", "co", "company", "cic", "inc"];

  // Letters with no accent to strip, written as one types them without the
  // letter (Python's casefold, which normalise_name uses, makes "ß" "ss": the
  // review found "strasse" found "Straße" in the supplier list, not here).
  var LETTERS = { "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "þ": "th" };

  // Folded as procure's normalise_name folds names: accents and case aside,
  // apostrophes and dots deleted, "&" read as "and", other punctuation (a
  // hyphen, say) a space.
  function fold(text) {
    return text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[ßæœøłđþ]/g, function (letter) { return LETTERS[letter]; })
      .replace(/['\u2018\u2019`.]/g, "")
      .replace(/&/g, " and ")
      .replace(/[^a-z0-9]+/g, " ")
      .trim();
  }

  // The words that tell a name apart: its legal forms left out (unless they
  // are all it has, as with "The Co").
  function keyWords(text) {
    var words = fold(text).split(" ").filter(Boolean);
    var kept = words.filter(function (word) { return FORMS.indexOf(word) === -1; });
    return kept.length ? kept : words;
  }

  // One letter added, left out, changed, or two side by side swapped.
  function withinOneEdit(a, b) {
    if (a === b) return true;
    if (Math.abs(a.length - b.length) > 1) return false;
    var i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
    if (a.length === b.length) {
      if (a.slice(i + 1) === b.slice(i + 1)) return true; // changed
      return (
        a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2)
      ); // swapped
    }
    var longer = a.length > b.length ? a : b;
    var shorter = a.length > b.length ? b : a;
    return longer.slice(i + 1) === shorter.slice(i); // added or left out
  }

  function escapeHtml(text) {
    return text
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  document.querySelectorAll("select[data-ls-search]").forEach(function (select) {
    var named = Array.prototype.filter.call(select.options, function (option) {
      return option.value !== "";
    });
    var folded = named.map(function (option) { return fold(option.textContent); });
    var keys = named.map(function (option) { return keyWords(option.textContent); });
    var chosen = select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
    // What was typed before an error page (procure.forms.ContractForm).
    var typedBefore = select.getAttribute("data-ls-typed") || "";
    var hints = select.getAttribute("aria-describedby");
    var id = select.id;
    // The choice for text that names no supplier: refused by the form.
    var nobody = document.createElement("option");
    nobody.value = "-1";
    nobody.textContent = "";
    // The text typed, sent with the form (the form quotes it in its error).
    var typed = document.createElement("input");
    typed.type = "hidden";
    typed.name = select.name + "_typed";
    select.parentNode.insertBefore(typed, select);
    // Said above the box when the names listed are near matches only.
    var near = document.createElement("p");
    near.className = "govuk-body govuk-!-margin-bottom-1";
    near.id = id + "-near";
    near.hidden = true;
    near.textContent = "No exact match. Did you mean one of the names listed below?";
    var nearMatches = false;

    function match(text) {
      var exact = named.filter(function (option) { return option.textContent === text; });
      if (exact.length) return exact[0];
      var key = fold(text);
      var same = named.filter(function (_, i) { return folded[i] === key; });
      return same.length === 1 ? same[0] : null;
    }

    function choose(text) {
      typed.value = text.trim();
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

    // The names holding every word typed (legal forms aside) or, failing
    // those, the names with a word near each word typed (four letters or more).
    function find(query) {
      var words = keyWords(query);
      var found = named.filter(function (_, i) {
        return words.every(function (word) { return folded[i].indexOf(word) !== -1; });
      });
      nearMatches = false;
      if (!found.length && words.length) {
        found = named.filter(function (_, i) {
          return words.every(function (word) {
            return keys[i].some(function (own) {
              return own.indexOf(word) !== -1 || (word.length >= 4 && withinOneEdit(word, own));
            });
          });
        });
        nearMatches = found.length > 0;
      }
      near.hidden = !nearMatches;
      return found.map(function (option) { return option.textContent; });
    }

    autocomplete.enhanceSelectElement({
      selectElement: select,
      source: function (query, populate) { populate(find(query)); },
      defaultValue: chosen && chosen.value !== "" ? chosen.textContent : typedBefore,
      minLength: 1,
      confirmOnBlur: false, // leaving the box never picks a name not chosen
      // Nothing highlighted until an arrow key moves to it: the first Down goes
      // to the first name, and Enter after a typo picks no near match (QA).
      autoselect: false,
      showNoOptionsFound: true,
      displayMenu: "list",
      templates: {
        // Names are text, not HTML (the library writes suggestions as HTML).
        suggestion: function (name) { return name === undefined ? "" : escapeHtml(name); },
      },
      tNoResults: function () {
        return "No supplier of this council has that name";
      },
      tStatusResults: function (length, selected) {
        var count = length + (length === 1 ? " supplier is" : " suppliers are") + " listed. ";
        return (nearMatches ? "No exact match. Did you mean one of these? " : "") + count + selected;
      },
      onConfirm: function (name) {
        if (name !== undefined) {
          near.hidden = true;
          choose(name);
        }
      },
    });
    var input = document.getElementById(id);
    if (!input) return;
    var box = input.closest(".autocomplete__wrapper");
    var holder = box ? box.parentNode : input.parentNode;
    holder.parentNode.insertBefore(near, holder);
    ["input", "change", "blur"].forEach(function (event) {
      input.addEventListener(event, function () { choose(input.value); });
    });
    input.addEventListener("input", function () {
      if (input.value.trim() === "") near.hidden = true;
    });
    holder.addEventListener("focusout", function (event) {
      if (!holder.contains(event.relatedTarget)) near.hidden = true;
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
