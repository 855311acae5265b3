"""QA findings on the contracts list and the words after saving a contract: the
list fits a laptop's screen, opens on the contracts ending soonest and says so,
and counts only the deleted contracts a search finds."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from procure.linking import LinkResult
from procure.models import Contract, ContractStatus
from procure.tables import list_money
from procure.views import _linked_words


def _contract(council, reference, *, end=None, status=ContractStatus.ACTIVE, **kw):
    today = timezone.localdate()
    return Contract.objects.create(
        council=council,
        reference=reference,
        title=kw.pop("title", f"Contract {reference}"),
        start_date=today - timedelta(days=800),
        end_date=end,
        status=status,
        **kw,
    )


def _url(council, **query):
    from urllib.parse import urlencode

    url = reverse("procure:contracts", args=[council.slug])
    return f"{url}?{urlencode(query)}" if query else url


def _references(page) -> list[str]:
    return [row.record.reference for row in page.context["table"].page.object_list]


def test_the_list_opens_on_the_contracts_ending_soonest_and_says_so(
    client, council, council_officer, make_supplier
):
    """QA: "Ends (descending)" put pipeline notices ending in 2041 on page 1."""
    today = timezone.localdate()
    supplier = make_supplier()
    days = timedelta(days=1)
    _contract(council, "PIPE-2041", end=date(2041, 1, 1), status="pipeline")
    _contract(council, "PIPE-SOON", end=today + 10 * days, status="pipeline")
    _contract(council, "ENDED-LONG-AGO", end=today - 400 * days, supplier=supplier)
    _contract(council, "ENDED-LATELY", end=today - 3 * days, supplier=supplier)
    _contract(
        council,
        "MARKED-ENDED",
        end=today + 30 * days,
        status=ContractStatus.ENDED,
        supplier=supplier,
    )
    _contract(council, "RUNS-2030", end=date(2030, 1, 1), supplier=supplier)
    _contract(council, "RUNS-OPEN", supplier=supplier)  # no end date
    _contract(council, "ENDS-SOON", end=today + 20 * days, supplier=supplier)
    _contract(council, "ENDS-TODAY", end=today, supplier=supplier)
    client.force_login(council_officer)
    page = client.get(_url(council))
    assert _references(page) == [
        "ENDS-TODAY",
        "ENDS-SOON",
        "RUNS-2030",
        "RUNS-OPEN",
        "PIPE-SOON",
        "PIPE-2041",
        "MARKED-ENDED",
        "ENDED-LATELY",
        "ENDED-LONG-AGO",
    ]
    text = page.content.decode()
    assert (
        "In this order: contracts still running first, ending soonest at the top; "
        "then pipeline notices, by end date; then contracts that have ended, most "
        "recent first." in text
    )
    # Another order says so, and how to come back to the first.
    by_value = client.get(_url(council, sort="-value")).content.decode()
    assert "In this order: value, highest first." in by_value
    assert "Put the contracts ending soonest first" in by_value
    assert re.search(r'href="\?"[^>]*>Put the contracts ending soonest first', by_value)
    # The download says the order in words, not "due".
    download = client.get(_url(council, format="csv"))
    csv = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "contracts still running first, ending soonest at the top" in csv
    assert ",due" not in csv


def test_large_amounts_are_shortened_in_the_list_with_the_exact_amount_kept(
    client, council, council_officer, make_supplier
):
    """QA: £80,000,000,000.00 made the list 1,024px wide in a 713px column, its
    Value and Spend to date out of sight without scrolling."""
    _contract(
        council,
        "RM6320",
        end=date(2034, 10, 30),
        status="pipeline",
        value=Decimal("80000000000"),
    )
    _contract(
        council,
        "SMALL",
        end=date(2034, 10, 30),
        value=Decimal("48000"),
        supplier=make_supplier(),
    )
    client.force_login(council_officer)
    text = client.get(_url(council)).content.decode()
    assert (
        '<span title="£80,000,000,000.00" aria-hidden="true">£80.0bn</span>'
        '<span class="govuk-visually-hidden">£80,000,000,000.00</span>'
    ) in text
    assert "£48,000.00" in text  # under £1 million: to the penny
    assert "ls-table--compact" in text
    assert 'class="govuk-link ls-long-text"' in text  # a long reference wraps


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (Decimal("999999.99"), "£999,999.99"),
        (Decimal("1000000"), "£1.0m"),
        (Decimal("2650000"), "£2.6m"),
    ],
)
def test_list_money(value, shown):
    assert (
        re.sub(r"<[^>]+>", "|", str(list_money(value))).strip("|").split("|")[0]
        == shown
    )


def test_a_search_counts_only_the_deleted_contracts_it_finds(
    client, council, council_officer
):
    """QA: a search for "QA-110" said "1 deleted contract" of an unrelated one."""
    _contract(council, "QA-110", end=date(2030, 1, 1), status="pipeline")
    _contract(council, "QA-200", end=date(2030, 1, 1), status="pipeline").delete()
    client.force_login(council_officer)
    everything = client.get(_url(council)).content.decode()
    assert "1 deleted contract</a>" in everything
    found = client.get(_url(council, q="QA-110")).content.decode()
    assert "deleted contract" not in found
    deleted = client.get(_url(council, q="QA-200")).content.decode()
    assert "1 deleted contract matches “QA-200”</a>" in deleted


def _words(reference, lines, moves=()):
    contract = Contract(pk=1, reference=reference)
    result = LinkResult(linked=0, unlinked=0, manual=0, moves=list(moves))
    return _linked_words(contract, "Saved", result, lines)


def test_saving_says_no_payments_in_words_and_one_full_stop(db):
    """QA: "Saved contract Delivery and … Centre.. 0 payments linked to it."""
    said = _words("Delivery and installation for Chernihiv Forensic Centre.", 0)
    assert said == (
        "Saved contract Delivery and installation for Chernihiv Forensic Centre. "
        "No payments linked to it."
    )
    assert _words("QA-001", 1, [(None, 1, 1, Decimal(5))]) == (
        "Saved contract QA-001. 1 payment linked to it."
    )


def test_deleting_says_a_title_ending_in_a_full_stop_with_one(db):
    from procure.views import _deleted_words

    contract = Contract(reference="CF-1", title="Lab for the Forensic Centre.")
    assert _deleted_words(contract, [], 0) == (
        "Deleted contract CF-1, Lab for the Forensic Centre."
    )


def test_the_deleted_contracts_link_opens_the_ones_the_search_finds(
    client, council, council_officer
):
    """Review: "1 deleted contract matches “QA-200”" opened every deleted contract."""
    _contract(council, "QA-200", end=date(2030, 1, 1), status="pipeline").delete()
    _contract(council, "QA-300", end=date(2030, 1, 1), status="pipeline").delete()
    client.force_login(council_officer)
    listed = client.get(_url(council, q="QA-200")).content.decode()
    link = reverse("procure:contracts-deleted", args=[council.slug])
    assert f'href="{link}?q=QA-200">1 deleted contract matches' in listed

    page = client.get(f"{link}?q=QA-200").content.decode()
    assert "QA-200" in page and "QA-300" not in page
    assert "Showing the 1 deleted contract that matches “QA-200”." in page
    assert f'<a class="govuk-link" href="{link}">Show all deleted contracts</a>' in page
    everything = client.get(link).content.decode()
    assert "QA-200" in everything and "QA-300" in everything
    assert "Show all deleted contracts" not in everything
    none = client.get(f"{link}?q=nothing-like-it").content.decode()
    assert "No deleted contract matches “nothing-like-it”." in none
    assert "QA-200" not in none


def test_a_search_finding_nothing_gives_no_order(client, council, council_officer):
    """QA: "In this order: …" stood over an empty table."""
    _contract(council, "LBC-1", end=timezone.localdate() + timedelta(days=30))
    client.force_login(council_officer)
    assert "In this order:" in client.get(_url(council)).content.decode()
    page = client.get(_url(council, q="zzzz")).content.decode()
    assert "No contracts match" in page
    assert "In this order:" not in page
