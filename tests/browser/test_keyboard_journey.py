"""The cabinet member's journey (journey 3) with the keyboard alone.

No mouse and no typed URL beyond the bookmarked dashboard: the first Tab on a page
reaches the skip link, which shows when focused and moves focus to the main
content; Tab goes through the dashboard's filters in the order they are seen; the
financial year is changed with the arrow keys and the filters submitted with
Enter; a tile's drill-down link opens with Enter. Every element that takes focus
on the way shows it: its outline or box-shadow differs from when it is not
focused (GOV.UK's yellow focus style).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.helpers import Screens

pytestmark = pytest.mark.browser

FOCUSABLE = (
    "a[href], button:not([hidden]), select, input:not([type=hidden]), textarea, "
    "[tabindex]:not([tabindex='-1'])"
)
# Each focusable element's look while it is not focused, taken at page load.
REMEMBER_UNFOCUSED = """(selector) => {
  const look = (el) => {
    const s = getComputedStyle(el);
    return {outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
            shadow: s.boxShadow};
  };
  window.__lsLook = look;
  window.__lsUnfocused = new Map();
  for (const el of document.querySelectorAll(selector)) {
    window.__lsUnfocused.set(el, look(el));
  }
}"""
# What has focus: where it is, what it is, and whether focus shows on it.
FOCUSED = """() => {
  const el = document.activeElement;
  const r = el.getBoundingClientRect();
  const before = window.__lsUnfocused.get(el);
  const now = window.__lsLook(el);
  const area = el.closest(
    'form, .ls-stated-filters, .ls-tile, figure, nav, header, footer, section, main');
  const a = area ? area.getBoundingClientRect() : r;
  const label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : '';
  return {
    tag: el.tagName.toLowerCase(), id: el.id,
    text: (label || el.innerText || el.value || '').trim().slice(0, 80),
    x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height,
    inViewport: r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
    inMain: !!el.closest('main'),
    area: area ? (area.className || area.tagName) : '',
    areaX: a.left + window.scrollX, areaY: a.top + window.scrollY,
    before: before || null, now,
    shows: !!before && (before.outline !== now.outline || before.shadow !== now.shadow)
      && (now.outline.split(' ')[0] !== 'none' || now.shadow !== 'none'),
  };
}"""


def remember_unfocused(page, *, blur: bool = True) -> None:
    if blur:
        page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate(REMEMBER_UNFOCUSED, FOCUSABLE)


def press(page, key: str) -> dict:
    page.keyboard.press(key)
    focused = page.evaluate(FOCUSED)
    assert focused["before"] is not None or focused["tag"] == "main", focused
    return focused


def tab(page) -> dict:
    """Tab once: the element that takes focus shows it, and is on screen."""
    focused = press(page, "Tab")
    assert focused["shows"], f"focus does not show on {focused}"
    assert focused["inViewport"], f"focus went off screen: {focused}"
    return focused


def assert_visual_order(steps: list[dict]) -> None:
    """Within an area, each focus is below the last (or on its line, to its
    right); and areas come in reading order, by where each area starts."""

    def after(a_x, a_y, a_h, b_x, b_y, b_h) -> bool:
        same_line = abs((b_y + b_h / 2) - (a_y + a_h / 2)) < max(a_h, b_h) / 2
        return b_x > a_x if same_line else b_y > a_y

    for a, b in zip(steps, steps[1:], strict=False):
        if a["area"] == b["area"] and (a["areaX"], a["areaY"]) == (
            b["areaX"],
            b["areaY"],
        ):
            assert after(a["x"], a["y"], a["h"], b["x"], b["y"], b["h"]), (
                f"Tab went from {a['text']!r} back to {b['text']!r}"
            )
        else:
            assert after(a["areaX"], a["areaY"], 20, b["areaX"], b["areaY"], 20), (
                f"Tab went from the area of {a['text']!r} back to {b['text']!r}"
            )


def skip_to_main(page, screens: Screens, name: str) -> None:
    """From page load: the first Tab is the skip link, shown; Enter goes to main."""
    remember_unfocused(page)
    skip = tab(page)
    assert skip["text"] == "Skip to main content", skip
    link = page.get_by_role("link", name="Skip to main content")
    box = link.bounding_box()
    assert box and box["width"] > 20 and box["height"] > 10, box  # not clipped away
    expect(link).to_be_in_viewport()
    screens.take(page, f"{name}-skip-link", full_page=False)
    landed = press(page, "Enter")
    assert landed["tag"] == "main" and landed["id"] == "main-content", landed


def tab_until(page, wanted, limit: int = 40) -> list[dict]:
    """Tab until `wanted(focused)`, every step visible; the steps taken."""
    steps = []
    for _ in range(limit):
        steps.append(tab(page))
        if wanted(steps[-1]):
            return steps
    raise AssertionError(f"{limit} Tabs never reached it: {[s['text'] for s in steps]}")


def test_cabinet_journey_by_keyboard_alone(demo, live_server, page, output_path):
    base = live_server.url
    screens = Screens(output_path)

    # The bookmarked dashboard asks to sign in: the form, by keyboard. The
    # username box has focus from the start (Django's login form autofocuses it).
    page.goto(f"{base}/c/luton/dashboard/")
    assert "/accounts/login/" in page.url
    expect(page.get_by_label("Username")).to_be_focused()
    remember_unfocused(page, blur=False)
    page.keyboard.type("demo-cabinet")
    assert tab(page)["text"] == "Password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/c/luton/dashboard/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Where the money went:")
    first_heading = heading.inner_text()
    expect(page.locator(".ls-chart__plot svg.main-svg").first).to_be_attached()

    # Skip link, then the filters in the order they are seen.
    skip_to_main(page, screens, "dashboard")
    year = tab(page)
    assert year["text"] == "Financial year" and year["tag"] == "select", year
    select = page.get_by_label("Financial year")
    before = select.input_value()
    options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert len(options) >= 2, options  # the demo spans two financial years
    page.keyboard.press("ArrowDown" if options.index(before) == 0 else "ArrowUp")
    chosen = select.input_value()
    assert chosen != before, "the arrow keys did not change the financial year"
    screens.take(page, "year-changed", full_page=False)
    steps = [year] + tab_until(page, lambda f: f["text"] == "Show")
    labels = [s["text"] for s in steps]
    # The month boxes are hidden until "Months chosen below" is the period.
    assert labels == [
        "Financial year",
        "Period",
        "Directorate or service area",
        "Payments to public sector bodies",
        "Payments to redacted payees",
        "Show",
    ], labels
    assert_visual_order(steps)
    screens.take(page, "show-focused", full_page=False)
    page.keyboard.press("Enter")
    expect(heading).not_to_have_text(first_heading)
    expect(page.get_by_label("Financial year")).to_have_value(chosen)
    fy = re.search(r"\d{4}/\d\d", heading.inner_text())[0]
    assert (
        fy in page.get_by_label("Financial year").locator("option:checked").inner_text()
    )

    # The page opens at the main content (the form keeps the skip link's
    # #main-content), so Tab carries on from the filters, down the page in the
    # order it is seen, to the Local tile's figure.
    assert page.url.endswith("#main-content"), page.url
    remember_unfocused(page, blur=False)
    local = page.locator(".ls-tile").filter(
        has=page.get_by_role("heading", name="Local", exact=True)
    )
    target = local.locator(".ls-tile__figure a")
    expected = target.inner_text()
    steps = tab_until(
        page,
        lambda f: (
            f["area"].startswith("ls-tile")
            and f["text"] == expected
            and target.evaluate("a => a === document.activeElement")
        ),
        limit=60,
    )
    assert steps[0]["text"] == "Financial year", steps[0]
    assert all(s["inMain"] for s in steps), [s["text"] for s in steps]
    assert_visual_order(steps)
    screens.take(page, "tile-link-focused", full_page=False)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Spend lines")).to_be_visible()
    expect(page.locator(".ls-filters-in-force")).to_contain_text(
        f"Showing payments from 1 April {fy[:4]}"
    )
    skip_to_main(page, screens, "spend-lines")


def test_the_checks_catch_a_hidden_focus_and_a_jump_back(page):
    """The checks above can fail: a link whose focus style was taken away, and a
    Tab that goes back up the page."""
    page.set_content(
        "<style>a:focus { outline: none; box-shadow: none; }"
        " button:focus { outline: 3px solid #fd0; }</style>"
        "<p><a href='#x'>No focus style</a></p><p><button>Focus shows</button></p>"
    )
    remember_unfocused(page)
    hidden = press(page, "Tab")
    assert hidden["text"] == "No focus style" and not hidden["shows"], hidden
    shown = press(page, "Tab")
    assert shown["text"] == "Focus shows" and shown["shows"], shown
    assert_visual_order([hidden, shown])
    with pytest.raises(AssertionError, match="back to"):
        assert_visual_order([shown, hidden])
