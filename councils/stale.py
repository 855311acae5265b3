"""Refusing a save from a page opened before someone else's save.

With a record open in two tabs (or by two officers), the second save would
quietly put back what the first one changed: every field the page showed is
saved, changed or not (QA: the local area, a supplier, a contract). A form that
mixes in `RefusesStaleSaves` carries what its page showed, signed, in a hidden
`seen` field; a save from a page that no longer shows the record as it is is
refused, saying who changed which fields and when, and the form keeps what this
person changed and shows the rest as it now is (with a fresh `seen`), so saving
again keeps both changes.

The form checks as it validates; the view checks again with the row locked,
inside the save's transaction (a save that came in between):

    with transaction.atomic():
        held = Model.objects.select_for_update().get(pk=obj.pk)
        if form.refuse_if_stale(held):
            return render(...)  # the form holds the message
        form.save()

A save with no `seen` (a page from before, a script, an import) is not checked.
"""

from __future__ import annotations

import json
from decimal import Decimal
from itertools import pairwise

from django import forms
from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.text import get_text_list

HISTORY_LOOKED_AT = 50  # records searched for who made the change


class SeenField(forms.CharField):
    """The record as the page showed it, signed. Never a change to the record:
    `has_changed` is False, so "nothing changed" still means nothing."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def has_changed(self, initial, data) -> bool:
        return False


def _canonical(value):
    """A field's value as `seen` holds it (JSON), the same however it was got:
    from the database, a history record or the form (a related object as its
    primary key, 20.0 as 20, a browser's line ends as "\\n")."""
    if isinstance(value, models.Model):
        value = value.pk
    elif isinstance(value, Decimal):
        value = value.normalize()
    elif isinstance(value, str):
        value = value.replace("\r\n", "\n")
    return json.loads(json.dumps(value, default=str))


def _field_value(obj, name: str):
    """The value of model field `name` of `obj` (a related object's primary
    key); None if `obj` (a history record, say) does not have it."""
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field.value_from_object(obj)


class RefusesStaleSaves:
    """Mixin for a ModelForm (put it first among the bases): refuses a save
    from a page that showed the record other than it now is. See the module.

    Set on the form:
    - `seen_salt`: the signing salt, one for each kind of form;
    - `seen_what`: the record in words, for "the rest now shows <it> as it is";
    - `seen_here`: People.name's `here` for who changed it (False for what every
      council shares, such as a supplier);
    - `seen_council(held)`: the council whose members read the message (by
      default the form's `council`).
    Override `stale_change(held, names)` to find the newest history record that
    changed fields `names` some other way.

    The fields that count are the form's model fields (Meta.fields it has).
    The check runs after every clean method (in `_post_clean`, before the
    instance takes the form's values); a form overriding `_post_clean` without
    calling it is not checked (the contract register's import rows)."""

    seen_salt: str = ""
    seen_what: str = "the record"
    seen_here: bool = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Worked out only when a page is shown (a bound form shows what came).
        self.fields["seen"] = SeenField(initial=self._seen_initial)
        # A browser sends a text box's line ends as "\r\n": read as "\n", as
        # they are held, so a text box left alone is no change (QA: a contract's
        # imported description was recorded as changed by every save).
        boxes = [
            self.add_prefix(name)
            for name, field in self.fields.items()
            if isinstance(field.widget, forms.Textarea)
        ]
        if self.is_bound and any(isinstance(self.data.get(b), str) for b in boxes):
            data = self.data.copy()
            for box in boxes:
                if isinstance(data.get(box), str):
                    data[box] = data[box].replace("\r\n", "\n")
            self.data = data

    @classmethod
    def seen_names(cls) -> list[str]:
        """The fields that count: the model fields the form has."""
        return [name for name in cls._meta.fields if name in cls.base_fields]

    @classmethod
    def seen_values(cls, obj) -> dict[str, object]:
        """`obj`'s values of the fields that count, as `seen` holds them (`obj`
        is the record, or one of its history records)."""
        return {name: _canonical(_field_value(obj, name)) for name in cls.seen_names()}

    @classmethod
    def seen_token(cls, obj) -> str:
        """`obj` as a page shows it, signed, for the form's hidden `seen`."""
        return signing.dumps(
            [str(obj.pk), cls.seen_values(obj)], salt=cls.seen_salt, compress=True
        )

    def seen_council(self, held):
        return getattr(self, "council", None)

    def _seen_initial(self) -> str:
        if self.is_bound or self.instance.pk is None:
            return ""
        return self.seen_token(self.instance)

    def _seen(self) -> dict[str, object] | None:
        """The record as the page showed it, or None (no page, or not this
        record's page)."""
        try:
            seen = signing.loads(self.data.get("seen") or "", salt=self.seen_salt)
        except signing.BadSignature:
            return None
        if (
            not isinstance(seen, list)
            or len(seen) != 2
            or not isinstance(seen[1], dict)
            or self.instance.pk is None
            or seen[0] != str(self.instance.pk)
        ):
            return None
        return seen[1]

    def _post_clean(self) -> None:
        # After every clean method, so that what this person changed is known;
        # before the instance takes the form's values, so it is still as held.
        seen = self._seen()
        if seen is not None and self._differs(seen, self.instance):
            self._refuse_stale(self.instance, seen)
        super()._post_clean()

    def changes(self, held) -> bool:
        """Whether saving (after `is_valid`) would change `held`, the record as
        locked for the save: a form sent back as it was shown, or with values
        that clean to those held ("lu1 2aa " for "LU1 2AA"), changes nothing
        (QA: such a save added an empty "changed by" entry to the history)."""
        return self.seen_values(self.instance) != self.seen_values(held)

    def refuse_if_stale(self, held) -> bool:
        """Check again against the record as locked for the save (a save that
        came in between validating and now): True, with the form's error, if
        it has changed since the page was shown."""
        seen = self._seen()
        if seen is None or not self._differs(seen, held):
            return False
        self._refuse_stale(held, seen)
        return True

    def _differs(self, seen: dict[str, object], held) -> bool:
        now = self.seen_values(held)
        return any(now[name] != seen.get(name) for name in now)

    def _refuse_stale(self, held, seen: dict[str, object]) -> None:
        """Someone saved the record after this page was shown: save nothing. The
        form keeps what this person changed and shows the rest as it is now, so
        a second save keeps both changes; the message says who changed what,
        and when."""
        now = self.seen_values(held)
        mine = self._changed_here(seen)
        data = self.data.copy()
        for name in self.seen_names():
            if name not in mine:
                value = self.fields[name].prepare_value(_field_value(held, name))
                data[name] = "" if value is None else value
        data["seen"] = self.seen_token(held)
        self.data = data
        theirs = [name for name in now if now[name] != seen.get(name)]
        latest = self.stale_change(held, theirs)
        who = "Someone"
        if latest is not None:
            name = self._who(held, latest)
            when = timezone.localtime(latest.history_date)
            who = f"{name} (at {when:%H:%M} on {when.day} {when:%B %Y})"
        fields = get_text_list([str(self[n].label) for n in theirs], "and")
        labels = get_text_list([str(self[n].label) for n in mine], "and")
        kept = (
            f"Your change{'s' if len(mine) > 1 else ''} to {labels} "
            f"{'are' if len(mine) > 1 else 'is'} kept in the form"
            if mine
            else "You had changed nothing"
        )
        self.add_error(
            None,
            f"Nothing was saved: {who} changed {fields} after you opened this "
            f"page. {kept}; the rest now shows {self.seen_what} as it is. Check "
            "it, then save again.",
        )

    def _who(self, held, record) -> str:
        from councils.access import People

        council = self.seen_council(held)
        if council is None:
            return "someone"
        return People(council).name(
            record.history_user_id, record.history_user, here=self.seen_here
        )

    def stale_change(self, held, names: list[str]):
        """The newest history record of `held` that changed any of `names`
        (however it was saved: not one that changed only what the form does
        not show); else the newest record, or None."""
        records = list(
            held.history.select_related("history_user").order_by(
                "-history_date", "-history_id"
            )[:HISTORY_LOOKED_AT]
        )
        for newer, older in pairwise(records):
            if any(
                _canonical(_field_value(newer, name))
                != _canonical(_field_value(older, name))
                for name in names
            ):
                return newer
        return records[0] if records else None

    def _changed_here(self, seen: dict[str, object]) -> list[str]:
        """The fields this person changed from what their page showed."""
        changed = []
        for name in self.seen_names():
            if name in self.errors or name not in self.cleaned_data:
                changed.append(name)  # kept as typed, to be corrected
            elif _canonical(self.cleaned_data[name]) != seen.get(name):
                changed.append(name)
        return changed
