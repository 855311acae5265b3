"""Bulk writes of tags: streamed in pieces, awkward evidence, councils paying."""

from __future__ import annotations

from socialvalue import tagging
from socialvalue.models import SupplierTag, TagOverride
from socialvalue.tagging import classify_suppliers
from tests.socialvalue.test_tagging import register  # noqa: F401 (fixture)


def test_tags_written_in_pieces_each_have_their_history_row(
    monkeypatch,
    register,  # noqa: F811 (the fixture imported above)
    council,
    council_officer,
):
    monkeypatch.setattr(tagging._CopySource, "lines", 2)  # PostgreSQL: many reads
    reason = 'Invoice says "80 staff", 2025,\nsee: LU1 3AA\\n, and ,+,,'
    TagOverride.objects.create(
        supplier=register[0],
        council=council,
        kind="locality",
        value="wider",
        reason=reason,
        created_by=council_officer,
    )
    result = classify_suppliers(user=council_officer)
    tags = {tag.pk: tag for tag in SupplierTag.objects.all()}
    assert result.created == len(tags) > 2 * tagging._CopySource.lines
    fields = [*tagging.KEY_FIELDS, *tagging.SAVED, "decided_at", "decided_by_id"]
    history = SupplierTag.history.all()
    assert sorted(row.id for row in history) == sorted(tags)
    for row in history:
        tag = tags[row.id]
        assert [getattr(row, f) for f in fields] == [getattr(tag, f) for f in fields]
        assert (row.history_type, row.history_change_reason) == ("+", None)
        assert row.history_user == council_officer
        assert row.history_date == tag.decided_at
    local = SupplierTag.objects.get(
        supplier=register[0], council=council, kind="locality"
    )
    assert local.value == "wider" and local.evidence.endswith(reason)
    assert all(tag.evidence for tag in tags.values())
    assert SupplierTag.objects.filter(council__isnull=True).count() == 3 * len(register)


def test_councils_paying_many_suppliers_are_read_as_for_a_few(
    monkeypatch,
    register,  # noqa: F811 (the fixture imported above)
    council,
    other_council,
    make_line,  # noqa: F811
):
    from spend import rollup

    make_line(council, supplier=register[1])
    make_line(other_council, supplier=register[3])
    for pk in (council.pk, other_council.pk):
        rollup.rebuild(pk)
    ids = [firm.pk for firm in register]
    monkeypatch.setattr(tagging, "FEW", 0)  # one array parameter
    assert tagging.councils_paying(ids) == sorted([council.pk, other_council.pk])
    assert tagging.councils_paying(ids[:3]) == [council.pk]
    assert tagging.councils_paying([register[0].pk]) == []
    assert tagging.councils_paying(None) == rollup.councils_paying(None)
    monkeypatch.setattr(tagging, "FEW", 10**6)  # rollup.councils_paying's way
    assert tagging.councils_paying(ids[:3]) == [council.pk]
