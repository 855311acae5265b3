"""QA findings on the register import: near namesakes offered for review,
implausible values named, the rejected rows' file named once."""

from __future__ import annotations

import pytest
from django.urls import reverse

from procure.models import MatchSuggestion, Supplier
from tests.procure.test_register_import import _csv, _import, _row


def test_a_new_supplier_near_a_registered_one_is_offered_for_review(
    client, council, council_officer, make_supplier
):
    """QA: "Ashcrft Joinery LLP" was added as a new supplier and never offered
    against "Ashcroft Joinery LLP" on the review page."""
    held = make_supplier(name="Ashcroft Joinery LLP", verified=True)
    report = _import(
        council,
        _csv([_row("QA-201", "Joinery repairs", "Ashcrft Joinery LLP")]),
        "register.csv",
        user=council_officer,
    )
    assert report.new_suppliers == ["Ashcrft Joinery LLP"]
    new = Supplier.objects.get(name="Ashcrft Joinery LLP")
    suggestion = MatchSuggestion.objects.get(supplier=new)
    assert suggestion.candidate == held
    recorded = suggestion.history.get()
    assert recorded.history_user == council_officer
    assert recorded.history_change_reason == "Imported from register.csv"
    assert any(
        "1 of the new suppliers has a name close to one already in the register: "
        "“Ashcrft Joinery LLP” (like “Ashcroft Joinery LLP”)" in note
        for note in report.notes
    )

    client.force_login(council_officer)
    page = client.get(reverse("procure:review", args=[council.slug]))
    assert page.context["suggestions"][0] == suggestion
    assert "Ashcrft Joinery LLP" in page.content.decode()


def test_checking_suggests_nothing_but_says_what_importing_would(
    council, council_officer, make_supplier
):
    make_supplier(name="Ashcroft Joinery LLP")
    register = _csv([_row("QA-201", "Joinery repairs", "Ashcrft Joinery LLP")])
    report = _import(
        council, register, "register.csv", user=council_officer, check_only=True
    )
    assert not MatchSuggestion.objects.exists()
    assert any(
        "Once imported, it is offered on the Review page" in note
        for note in report.notes
    )


@pytest.mark.parametrize("name", ["Beacon Catering Ltd", "Joinery LLP"])
def test_a_new_supplier_unlike_any_is_not_suggested(council, make_supplier, name):
    make_supplier(name="Ashcroft Joinery LLP")
    _import(council, _csv([_row("QA-201", "Work", name)]), "register.csv")
    assert not MatchSuggestion.objects.exists()


def _cpv_row(reference, codes):
    row = _row(reference, "Works", "Green Spaces Ltd")
    row[8] = codes
    return row


def test_cpv_codes_without_their_check_digit_are_counted_and_explained(council):
    """QA: "826 row(s) gave CPV codes without their check digit … left out" said
    neither where such codes come from nor how many codes were lost."""
    rows = [
        _cpv_row("QA-301", "45000000, 45200000"),
        _cpv_row("QA-302", "45000000; 77310000-6"),
        _cpv_row("QA-303", "77310000-6"),
    ]
    report = _import(council, _csv(rows), "register.csv")
    assert report.created == 3
    note = next(n for n in report.notes if "CPV" in n)
    assert note.startswith(
        "3 CPV codes (2 different) on 2 rows have no check digit (45000000 rather "
        "than 45000000-7), as Contracts Finder's exports write them, so they are "
        "left out; the rest of each row is imported."
    )
    from procure.models import Contract

    assert Contract.objects.get(reference="QA-302").cpv_codes == "77310000-6"


def test_one_bare_cpv_code_is_said_in_the_singular(council):
    report = _import(council, _csv([_cpv_row("QA-301", "45000000")]), "r.csv")
    assert any(n.startswith("1 CPV code on 1 row has no") for n in report.notes)


def _valued(reference, value):
    return _row(reference, f"Contract {reference}", "Green Spaces Ltd", value=value)


def test_implausible_values_are_named_for_a_check_not_refused(
    client, council, council_officer, uploads
):
    """QA: £1.00 and £80,000,000,000.00 came in without comment."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = [
        _valued("QA-401", "1"),
        _valued("QA-402", "80000000000"),
        _valued("QA-403", "100"),  # the bounds themselves are plausible
        _valued("QA-404", "10000000000"),
        _valued("QA-405", "250000"),
    ]
    report = _import(council, _csv(rows), "register.csv")
    assert report.created == 5 and report.rejected == 0
    assert [(r, str(v)) for r, _, v in report.odd_values] == [
        ("QA-401", "1.00"),
        ("QA-402", "80000000000.00"),
    ]

    client.force_login(council_officer)
    url = reverse("procure:contract-import", args=[council.slug])
    upload = SimpleUploadedFile("more.csv", _csv([_valued("QA-501", "0.5")]))
    preview = client.post(url, {"step": "upload", "register-file": upload})
    mapping = {
        f"map-{name}": str(index)
        for name, index in preview.context["register"].mapping.items()
    }
    data = {"kept": preview.context["kept"], "file_name": "more.csv", **mapping}
    checked = client.post(url, {"step": "check", **data}).content.decode()
    assert "Values to check" in checked
    assert "under £100 or over £10 billion" in checked
    assert "It would be imported as the file gives it" in checked
    assert "<strong>QA-501</strong>: Contract QA-501, £0.50" in checked
    done = client.post(url, {"step": "import", **data}).content.decode()
    assert "It was imported as the file gives it" in done


@pytest.fixture
def uploads(settings, tmp_path):
    settings.UPLOAD_ROOT = tmp_path


def test_an_odd_value_held_before_an_update_is_not_named_again(council):
    """Review: a contract updated for its title was named for the odd value it
    already had; only a value the import gives is worth the check."""
    first = _import(council, _csv([_valued("QA-601", "1")]), "register.csv")
    assert [r for r, _, _ in first.odd_values] == ["QA-601"]

    retitled = _row(
        "QA-601", "Contract QA-601, retitled", "Green Spaces Ltd", value="1"
    )
    report = _import(council, _csv([retitled]), "retitled.csv")
    assert report.updated == 1 and report.odd_values == []
    blank = _row("QA-601", "Contract QA-601, again", "Green Spaces Ltd", value="")
    report = _import(council, _csv([blank]), "blank.csv")
    assert report.updated == 1 and report.odd_values == []

    revalued = _row("QA-601", "Contract QA-601, again", "Green Spaces Ltd", value="2")
    report = _import(council, _csv([revalued]), "revalued.csv")
    assert report.updated == 1
    assert [(r, str(v)) for r, _, v in report.odd_values] == [("QA-601", "2.00")]
