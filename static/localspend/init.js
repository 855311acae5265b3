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

// A table wider than the screen scrolls sideways in its wrapper: such a wrapper
// is a labelled region that takes keyboard focus, so it can be scrolled with the
// arrow keys (WCAG 2.1.1; axe's "scrollable-region-focusable"). One that fits
// is left out of the tab order. A hint saying so (data-ls-scroll-hint="<its
// id>") shows only while the table does not fit.
function markScrolling(wrapper) {
  const scrolls = wrapper.scrollWidth > wrapper.clientWidth + 1;
  const hint = wrapper.dataset.lsScrollHint
    ? document.getElementById(wrapper.dataset.lsScrollHint)
    : null;
  if (hint) hint.hidden = !scrolls;
  if (scrolls) {
    const caption = wrapper.querySelector("caption");
    const name = caption ? caption.textContent.trim().replace(/\s+/g, " ") : "Table";
    wrapper.setAttribute("tabindex", "0");
    wrapper.setAttribute("role", "region");
    wrapper.setAttribute("aria-label", `${name} (scrolls sideways)`);
  } else {
    wrapper.removeAttribute("tabindex");
    wrapper.removeAttribute("role");
    wrapper.removeAttribute("aria-label");
  }
}

const wrappers = document.querySelectorAll(".ls-table-wrapper");
if (wrappers.length && "ResizeObserver" in window) {
  const observer = new ResizeObserver((entries) => {
    for (const entry of entries) markScrolling(entry.target);
  });
  for (const wrapper of wrappers) observer.observe(wrapper);
}
