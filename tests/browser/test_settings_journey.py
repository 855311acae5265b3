"""A council administrator's settings pages in a real browser: the details under
each answer of a choice show only once that answer is chosen (GOV.UK's
conditional reveal), so the page asks only for what applies."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_wider_area_asks_only_for_the_chosen_way(page, live_server, demo, log_in):
    log_in(page, live_server.url, "demo-admin")
    page.goto(live_server.url + "/c/luton/settings/area/")
    radius = page.get_by_label("Radius in miles")
    region = page.get_by_label("Region", exact=True)
    expect(radius).to_be_hidden()
    page.get_by_label("A radius around a centre").check()
    expect(radius).to_be_visible()
    expect(page.get_by_label("Postcode district at the centre")).to_be_visible()
    expect(region).to_be_hidden()
    page.get_by_label("A region", exact=True).check()
    expect(region).to_be_visible()
    expect(radius).to_be_hidden()


def test_adding_a_member_asks_only_for_the_chosen_answer(
    page, live_server, demo, log_in
):
    log_in(page, live_server.url, "demo-admin")
    page.goto(live_server.url + "/c/luton/settings/members/add/")
    existing = page.get_by_label("Username of their account")
    password = page.get_by_label("Initial password")
    expect(existing).to_be_hidden()
    expect(password).to_be_hidden()
    page.get_by_label("Yes, add their account").check()
    expect(existing).to_be_visible()
    expect(password).to_be_hidden()
    page.get_by_label("No, create an account for them").check()
    expect(password).to_be_visible()
    expect(existing).to_be_hidden()
