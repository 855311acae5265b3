// A contract's supplier, searchable: the <select> of every supplier the council
// deals with (hundreds, in a real council) becomes GOV.UK's accessible
// autocomplete, which lists the suppliers whose names hold what is typed.
// Without JavaScript the <select> stays as it is. Emptying the box empties the
// choice (for a contract still in the pipeline), which the library alone does not.
(function () {
  "use strict";
  var autocomplete = window.accessibleAutocomplete;
  if (!autocomplete) return;
  document.querySelectorAll("select[data-ls-search]").forEach(function (select) {
    var named = Array.prototype.filter.call(select.options, function (option) {
      return option.value !== "";
    });
    var chosen = select.selectedIndex >= 0 ? select.options[select.selectedIndex] : null;
    var id = select.id;
    autocomplete.enhanceSelectElement({
      selectElement: select,
      source: function (query, populate) {
        var words = query.toLowerCase().split(/\s+/).filter(Boolean);
        populate(
          named
            .map(function (option) { return option.textContent; })
            .filter(function (name) {
              var lower = name.toLowerCase();
              return words.every(function (word) { return lower.indexOf(word) !== -1; });
            })
        );
      },
      defaultValue: chosen && chosen.value !== "" ? chosen.textContent : "",
      minLength: 1,
      showNoOptionsFound: true,
      displayMenu: "list",
      tNoResults: function () {
        return "No supplier of this council has that name";
      },
      onConfirm: function (name) {
        if (name === undefined) return;
        var match = named.find(function (option) { return option.textContent === name; });
        if (match) select.value = match.value;
      },
    });
    var input = document.getElementById(id);
    if (input) {
      input.addEventListener("change", function () {
        if (input.value.trim() === "") select.value = "";
      });
      input.addEventListener("blur", function () {
        if (input.value.trim() === "") select.value = "";
      });
    }
  });
})();
