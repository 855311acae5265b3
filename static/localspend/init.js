import { initAll } from "../vendor/govuk-frontend/govuk-frontend.min.js";

initAll();

// Radios whose answers have details under them (data-reveals="<id of the
// details>"): only the chosen answer's details show. GOV.UK Frontend's own
// reveal (data-aria-controls) marks each radio aria-expanded, which ARIA does
// not allow on a radio (govuk-frontend issue 979); the details sit straight
// under their radio, so they are read in order without it. Without JavaScript
// every answer's details show.
function syncReveals(group) {
  for (const input of group.querySelectorAll("input[data-reveals]")) {
    const details = document.getElementById(input.dataset.reveals);
    if (details) {
      details.classList.toggle("govuk-radios__conditional--hidden", !input.checked);
    }
  }
}

for (const group of document.querySelectorAll(".govuk-radios")) {
  if (group.querySelector("input[data-reveals]")) {
    group.addEventListener("change", () => syncReveals(group));
    window.addEventListener("pageshow", () => syncReveals(group));
    syncReveals(group);
  }
}
