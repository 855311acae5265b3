from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from councils.periods import FinancialYear
from socialvalue.models import Target

FORM = {
    "metric": "sme",
    "baseline_year": "2022/23",
    "baseline_share": "30",
    "target_year": "2026/27",
    "target_share": "50",
    "notes": "Cabinet, March 2022",
}


def test_an_administrator_adds_a_target_and_history_records_who(
    client, council_admin, council
):
    client.force_login(council_admin)
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), FORM)
    assert response.status_code == 302
    target = Target.objects.get(council=council, metric="sme")
    assert (target.baseline_year, target.target_year) == (2022, 2026)
    assert target.history.get().history_user == council_admin


@pytest.mark.parametrize("role", ["procurement", "finance", "viewer"])
def test_only_administrators_may_set_targets(client, role_users, council, role):
    client.force_login(role_users[role])
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), FORM)
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_a_target_before_its_baseline_is_refused_with_a_message(
    client, council_admin, council
):
    client.force_login(council_admin)
    data = FORM | {"target_year": "2021/22", "target_share": "120"}
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), data)
    assertContains(response, "There is a problem")
    assertContains(response, "The target year must come after the baseline year.")
    assertContains(response, "Enter a percentage between 0 and 100.")
    assert not Target.objects.exists()


def test_a_badly_written_year_is_explained(client, council_admin, council):
    client.force_login(council_admin)
    response = client.post(
        reverse("socialvalue:target-new", args=[council.slug]),
        FORM | {"baseline_year": "22"},
    )
    # In words, not Python's quotes (QA: "Not a financial year: '2024'").
    assertContains(response, "Not a financial year: “22” (write it like 2023/24)")


def test_the_trajectory_is_a_straight_line_then_holds(council):
    target = Target(
        council=council,
        metric="local",
        baseline_year=2017,
        baseline_share=Decimal("25"),
        target_year=2023,
        target_share=Decimal("70"),
    )
    assert target.share_for(FinancialYear(2016)) is None
    assert target.share_for(FinancialYear(2020)) == Decimal("47.5")
    assert target.share_for(FinancialYear(2025)) == Decimal("70")


# ------------------------------------------------------------------ overlaps


def _target(council, metric="sme", baseline=2022, target=2026, **kwargs) -> Target:
    values = {"baseline_share": Decimal("30"), "target_share": Decimal("50")}
    return Target.objects.create(
        council=council,
        metric=metric,
        baseline_year=baseline,
        target_year=target,
        **values | kwargs,
    )


@pytest.mark.parametrize(
    ("baseline_year", "target_year"),
    [
        ("2024/25", "2028/29"),  # starts inside it
        ("2020/21", "2024/25"),  # ends inside it
        ("2023/24", "2025/26"),  # within it
        ("2020/21", "2030/31"),  # around it
        ("2018/19", "2026/27"),  # same target year
    ],
)
def test_a_target_overlapping_another_for_the_same_measure_is_refused(
    client, council_admin, council, baseline_year, target_year
):
    _target(council)
    client.force_login(council_admin)
    data = FORM | {"baseline_year": baseline_year, "target_year": target_year}
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), data)
    assert response.status_code == 200
    assertContains(response, "There is a problem")
    assertContains(
        response,
        "These years overlap the SME spend target already set, 30% in 2022/23 to "
        "50% in 2026/27",
    )
    assertContains(response, "Change that target instead")
    assertContains(response, "start in 2026/27 or later, or end in 2022/23 or earlier")
    assert Target.objects.count() == 1


def test_a_target_may_start_in_the_year_the_last_one_ends(
    client, council_admin, council
):
    _target(council)
    client.force_login(council_admin)
    data = FORM | {"baseline_year": "2026/27", "target_year": "2030/31"}
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), data)
    assert response.status_code == 302
    assert Target.objects.count() == 2


def test_other_measures_and_councils_do_not_overlap(
    client, council_admin, council, other_council
):
    _target(council, metric="local")
    _target(other_council)
    client.force_login(council_admin)
    response = client.post(reverse("socialvalue:target-new", args=[council.slug]), FORM)
    assert response.status_code == 302


def test_changing_a_target_does_not_overlap_itself_but_may_not_reach_another(
    client, council_admin, council
):
    first = _target(council)
    second = _target(council, baseline=2026, target=2030)
    client.force_login(council_admin)
    url = reverse("socialvalue:target-edit", args=[council.slug, first.pk])
    response = client.post(url, FORM | {"target_share": "55"})
    assert response.status_code == 302
    response = client.post(url, FORM | {"target_year": "2028/29"})
    assertContains(
        response,
        "overlap the SME spend target already set, 30% in 2026/27 to 50% in 2030/31",
    )
    first.refresh_from_db()
    assert (first.target_year, first.target_share) == (2026, Decimal("55"))
    assert second.target_year == 2030


# ------------------------------------------------------------------ removing


def test_an_administrator_removes_a_target_after_confirming(
    client, council_admin, council
):
    target = _target(council)
    client.force_login(council_admin)
    url = reverse("socialvalue:target-remove", args=[council.slug, target.pk])

    page = client.get(url)
    assertContains(page, "Remove the SME spend target?")
    assertContains(page, "30.0% in 2022/23")
    assert Target.objects.filter(pk=target.pk).exists()  # asking removes nothing

    response = client.post(url, follow=True)
    assertRedirects(response, reverse("socialvalue:targets", args=[council.slug]))
    assertContains(
        response, "Removed the target: SME spend: 30% in 2022/23 to 50% in 2026/27."
    )
    assert not Target.objects.exists()
    removal = Target.history.get(id=target.pk, history_type="-")
    assert removal.history_user == council_admin
    assert removal.history_change_reason == f"Removed by {council_admin.username}"


def test_removing_a_target_says_which_target_the_dashboard_then_uses(
    client, council_admin, council
):
    """QA: the page said the dashboard would show no trajectory for those years,
    and the older target then judged them (its share holding after its year)."""
    older = _target(council, baseline=2017, target=2023, target_share=Decimal("70"))
    newer = _target(
        council,
        baseline=2023,
        target=2030,
        baseline_share=Decimal("70"),
        target_share=Decimal("80"),
    )
    other = _target(council, metric="local")  # another measure's: not said
    client.force_login(council_admin)
    page = client.get(
        reverse("socialvalue:target-remove", args=[council.slug, newer.pk])
    )
    assertContains(
        page,
        "Once it is removed, the dashboard judges SME spend in every year against "
        "the other SME spend target: 30% in 2017/18 to 70% in 2023/24 (after "
        "2023/24, 70.0% holds).",
    )
    assertNotContains(page, "no trajectory")
    page = client.get(
        reverse("socialvalue:target-remove", args=[council.slug, other.pk])
    )
    assertContains(page, "for local spend.")
    older.delete()
    page = client.get(
        reverse("socialvalue:target-remove", args=[council.slug, newer.pk])
    )
    assertContains(
        page,
        "With no other SME spend target, the dashboard will show no target, "
        "trajectory or status for SME spend.",
    )


@pytest.mark.parametrize("role", ["procurement", "finance", "viewer"])
def test_only_administrators_may_remove_targets(client, role_users, council, role):
    target = _target(council)
    client.force_login(role_users[role])
    url = reverse("socialvalue:target-remove", args=[council.slug, target.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Target.objects.filter(pk=target.pk).exists()


def test_another_councils_target_cannot_be_removed(
    client, council_admin, council, other_council
):
    theirs = _target(other_council)
    client.force_login(council_admin)
    url = reverse("socialvalue:target-remove", args=[council.slug, theirs.pk])
    assert client.post(url).status_code == 404
    assert Target.objects.filter(pk=theirs.pk).exists()


# ------------------------------------------------------------------ history


def test_a_targets_history_shows_who_changed_what_in_plain_words(
    client, council_admin, council
):
    client.force_login(council_admin)
    client.post(reverse("socialvalue:target-new", args=[council.slug]), FORM)
    target = Target.objects.get()
    url = reverse("socialvalue:target-edit", args=[council.slug, target.pk])
    client.post(
        url, FORM | {"target_share": "55", "target_year": "2027/28", "metric": "vcse"}
    )

    page = client.get(url)

    assertContains(page, "History")
    assertContains(page, f"Changed by {council_admin.username}")
    assertContains(page, f"Added by {council_admin.username}")
    assertContains(page, "Target share: 50% → 55%")
    assertContains(page, "Target financial year: 2026/27 → 2027/28")
    assertContains(page, "Measure: SME spend → VCSE spend")
    assertNotContains(page, "target_share:")


def test_the_targets_list_shows_removed_targets_in_its_history(
    client, council_admin, viewer, council
):
    target = _target(council)
    client.force_login(council_admin)
    client.post(reverse("socialvalue:target-remove", args=[council.slug, target.pk]))
    client.force_login(viewer)

    page = client.get(reverse("socialvalue:targets", args=[council.slug]))

    assertContains(
        page,
        "SME spend: 30% in 2022/23 to 50% in 2026/27, removed by "
        f"{council_admin.username}",
    )
    assertNotContains(page, "target-remove")
    assertNotContains(page, f"/targets/{target.pk}/remove/")


def test_the_targets_list_says_which_chained_target_the_dashboard_uses(
    client, viewer, council
):
    from django.urls import reverse

    _target(council, "local", 2017, 2023, target_share=Decimal("70"))
    newer = _target(council, "local", 2023, 2030, baseline_share=Decimal("40"))
    client.force_login(viewer)
    page = client.get(reverse("socialvalue:targets", args=[council.slug]))
    fy = FinancialYear.for_date(timezone.localdate())
    rows = {row["target"].pk: row for row in page.context["targets"]}
    assert rows[newer.pk]["governs"] and newer.share_for(fy) is not None
    assert [row["governs"] for row in rows.values()].count(True) == 1
    assert "another Local spend target applies" in page.content.decode()


def test_the_target_forms_measure_starts_with_words_not_dashes(
    client, council, council_admin
):
    client.force_login(council_admin)
    page = client.get(reverse("socialvalue:target-new", args=[council.slug]))
    body = page.content.decode()
    assert '<option value="" selected>Choose a measure</option>' in body
    assert "---------" not in body


def test_the_targets_page_lists_the_measures_in_their_own_order(
    client, viewer, council
):
    """QA: the Targets page put Living Wage first (alphabetical by code), the
    overview and dashboard local first."""
    for metric in ("living_wage", "vcse", "local", "sme"):
        Target.objects.create(
            council=council,
            metric=metric,
            baseline_year=2022,
            baseline_share=Decimal("10"),
            target_year=2027,
            target_share=Decimal("20"),
        )
    client.force_login(viewer)
    rows = client.get(reverse("socialvalue:targets", args=[council.slug])).context[
        "targets"
    ]
    assert [row["target"].metric for row in rows] == [
        "local",
        "sme",
        "vcse",
        "living_wage",
    ]


def test_the_targets_list_shows_each_targets_notes(client, viewer, council):
    """QA: a target's note ("Cabinet pledge Nov 2026") showed only on its
    remove page."""
    _target(council, notes="Cabinet pledge Nov 2026\nsee the minutes")
    client.force_login(viewer)
    page = client.get(reverse("socialvalue:targets", args=[council.slug]))
    assertContains(page, "Cabinet pledge Nov 2026<br>see the minutes")


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("target_year", "3030/31"),
        ("target_year", "9998/99"),
        ("baseline_year", "1800/01"),
    ],
)
def test_a_year_far_off_is_refused(client, council_admin, council, field, typed):
    """QA: 3030/31 (for 2030/31) was saved, moving the dashboard's target line;
    9998/99 drew its chart to the year 9999 (a 46 MB page)."""
    client.force_login(council_admin)
    response = client.post(
        reverse("socialvalue:target-new", args=[council.slug]), FORM | {field: typed}
    )
    last = FinancialYear.for_date(timezone.localdate()).start_year + 30
    assert response.context["form"].errors[field] == [
        f"Enter a financial year from 2000/01 to {FinancialYear(last)}."
    ]
    assert not Target.objects.exists()


def test_an_empty_target_form_names_each_thing_to_enter(client, council_admin, council):
    client.force_login(council_admin)
    response = client.post(
        reverse("socialvalue:target-new", args=[council.slug]),
        dict.fromkeys(FORM, ""),
    )
    errors = response.context["form"].errors
    assert {field: errors[field] for field in errors} == {
        "metric": ["Choose a measure"],
        "baseline_year": ["Enter the baseline year, like 2023/24"],
        "baseline_share": ["Enter the baseline share, as a percentage like 25"],
        "target_year": ["Enter the target year, like 2030/31"],
        "target_share": ["Enter the target share, as a percentage like 70"],
    }


def test_long_notes_are_refused_and_wrap_on_the_page(client, council_admin, council):
    client.force_login(council_admin)
    url = reverse("socialvalue:target-new", args=[council.slug])
    response = client.post(url, FORM | {"notes": "x" * 1001})
    assert response.context["form"].errors["notes"] == [
        "Keep the notes to 1000 characters (they have 1001): link to the minutes "
        "rather than copy them."
    ]
    link = "https://democracy.luton.gov.uk/" + "a" * 140
    assert client.post(url, FORM | {"notes": link}).status_code == 302
    page = client.get(reverse("socialvalue:targets", args=[council.slug]))
    assertContains(page, '<p class="govuk-body-s ls-long-text')


def _as_shown(form) -> dict:
    return {
        name: "" if form[name].value() is None else form[name].value()
        for name in form.fields
    }


def test_a_target_saved_from_a_page_opened_before_anothers_save_is_refused(
    client, council_admin, council
):
    """QA: two administrators on one target: one raised the target share to
    50%, the other, changing only the baseline, put it back to 60% unseen."""
    target = _target(council, target_share=Decimal("60"))
    client.force_login(council_admin)
    url = reverse("socialvalue:target-edit", args=[council.slug, target.pk])
    tab_b = _as_shown(client.get(url).context["form"])
    tab_a = _as_shown(client.get(url).context["form"])
    assert tab_a["seen"]
    assert client.post(url, tab_a | {"target_share": "50"}).status_code == 302
    response = client.post(url, tab_b | {"baseline_share": "20"})
    assert response.status_code == 200
    assertContains(
        response,
        f"Nothing was saved: {council_admin.username} (at ",
    )
    assertContains(response, "changed Target share (%) after you opened this page")
    target.refresh_from_db()
    assert target.target_share == Decimal("50")
    again = _as_shown(response.context["form"])
    assert again["target_share"] in ("50", Decimal("50"), Decimal("50.00"))
    assert client.post(url, again).status_code == 302
    target.refresh_from_db()
    assert (target.baseline_share, target.target_share) == (
        Decimal("20"),
        Decimal("50"),
    )
