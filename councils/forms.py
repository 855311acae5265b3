"""Forms of the council settings pages: the local area, the public pages and the
council's members. Every message says what is wrong and what to do about it."""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from functools import cache

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError

from councils.access import members_elsewhere
from councils.models import Council, Membership, Role, WiderKind
from councils.stale import RefusesStaleSaves
from spend.values import clean_text, parse_postcode

ROLE_HINTS = {
    Role.ADMIN: "Everything, including these settings, the targets and who has access.",
    Role.PROCUREMENT: "Suppliers, contracts, tags and social value, and uploads.",
    Role.FINANCE: "Uploads the monthly spend file and sees the figures.",
    Role.VIEWER: "Sees the figures and the registers, and changes nothing.",
}
GSS_CODE = re.compile(r"[EKLMNSW][0-9]{8}")
MAX_CODES = 3000  # more districts than any wider area holds
MAX_RADIUS_MILES = Decimal("300")
_SEPARATORS = re.compile(r"[\s,;]+")


@cache
def district_table() -> dict[str, tuple[bool, str]]:
    """Every postcode district in the postcode-district table: whether it has a
    centre (a centroid), and its UK region."""
    path = settings.BASE_DIR / "fixtures" / "postcode_districts.csv"
    with open(path, encoding="utf-8-sig", newline="") as file:
        return {
            clean_text(row.get("district")).upper(): (
                bool(row.get("latitude") and row.get("longitude")),
                clean_text(row.get("uk_region")),
            )
            for row in csv.DictReader(file)
        }


def regions() -> list[str]:
    return sorted({region for _, region in district_table().values() if region})


def _quoted(items: list[str]) -> str:
    shown = [f"“{item}”" for item in items[:5]]
    more = len(items) - len(shown)
    text = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
    return text + (f" and {more} more" if more else "")


def _is_are(items: list) -> str:
    return "is" if len(items) == 1 else "are"


class CodeListField(forms.CharField):
    """A list of codes typed in a textarea, one a line or separated by commas,
    shown back the same way. Upper case, in the order given, each once."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 30_000)
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        codes = [code.upper() for code in _SEPARATORS.split(text) if code]
        unique = list(dict.fromkeys(codes))
        if len(unique) > MAX_CODES:
            raise ValidationError(
                f"There are {len(unique):,} codes here; the most allowed is "
                f"{MAX_CODES:,}. Remove the ones you do not need."
            )
        return unique

    def validate(self, value) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")


class DistrictListField(CodeListField):
    """Postcode districts (outward codes) such as LU1, each in the district table."""

    def to_python(self, value) -> list[str]:
        text = clean_text(value)
        # "LU1 2AB" typed as one postcode would split into "LU1" and "2AB": read
        # full postcodes first, to say what to enter instead.
        full = re.findall(
            r"\b[A-Za-z]{1,2}[0-9][0-9A-Za-z]?\s*[0-9][A-Za-z]{2}\b", text
        )
        if full:
            shown = [parse_postcode(p) or p for p in full]
            districts = [p.split()[0] for p in shown if " " in p]
            raise ValidationError(
                f"{_quoted(shown)} {_is_are(shown)} "
                f"{'a full postcode' if len(shown) == 1 else 'full postcodes'}: "
                f"enter only the first half, the district"
                + (f" ({', '.join(dict.fromkeys(districts))})" if districts else "")
                + "."
            )
        codes = super().to_python(value)
        table = district_table()
        # Both kinds of mistake at once (QA: the unknown district was told only
        # after the malformed ones were put right).
        errors = []
        malformed = [c for c in codes if parse_postcode(c) != c]
        if malformed:
            errors.append(
                f"{_quoted(malformed)} {_is_are(malformed)} not "
                f"{'a postcode district' if len(malformed) == 1 else 'postcode districts'}"
                ". Enter the first half of a postcode, such as LU1 or MK9, "
                "separated by commas or on separate lines."
            )
        unknown = [c for c in codes if c not in table and c not in malformed]
        if unknown:
            errors.append(
                f"{_quoted(unknown)} {_is_are(unknown)} not "
                f"{'a postcode district' if len(unknown) == 1 else 'postcode districts'}"
                " in use in the UK. Check "
                f"{'it' if len(unknown) == 1 else 'them'} against a supplier's "
                "address, or remove "
                f"{'it' if len(unknown) == 1 else 'them'}."
            )
        if errors:
            raise ValidationError(errors)
        return codes


class AuthorityCodeListField(CodeListField):
    """ONS (GSS) codes of local authorities, such as E06000032."""

    def to_python(self, value) -> list[str]:
        codes = super().to_python(value)
        wrong = [c for c in codes if not GSS_CODE.fullmatch(c)]
        if wrong:
            raise ValidationError(
                f"{_quoted(wrong)} {_is_are(wrong)} not "
                f"{'an ONS (GSS) code' if len(wrong) == 1 else 'ONS (GSS) codes'}. "
                "A code is a letter and 8 digits, such as E06000032; "
                "separate codes with commas or put each on its own line."
            )
        return codes


AREA_NOTES_LONGEST = 10_000


def area_values(council: Council) -> dict[str, object]:
    """The council's local area as held (LocalAreaForm's fields), as JSON holds
    it (a Decimal as its text)."""
    return LocalAreaForm.seen_values(council)


_SEEN_SALT = "localspend.local-area.seen"


def area_seen(council: Council) -> str:
    """The area as a page shows it, signed, for the form's hidden `seen`."""
    return LocalAreaForm.seen_token(council)


class LocalAreaForm(RefusesStaleSaves, forms.ModelForm):
    """The council's local area and its wider tier, as the classifier reads them."""

    local_districts = DistrictListField(
        label="Postcode districts in your local area",
        required=True,
        help_text="The first half of a postcode, such as LU1. Separate them with "
        "commas or put each on its own line. A supplier whose postcode is in one "
        "of these districts is local.",
        error_messages={
            "required": "Enter at least one postcode district, such as LU1: "
            "without one no supplier can be local."
        },
    )
    local_authority_codes = AuthorityCodeListField(
        label="ONS codes of the local authorities in your local area",
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Nine characters, such as E06000032. Used once the ONS postcode "
        "directory is loaded, to decide a full postcode by its local authority "
        "rather than its district. Your council's own code is always counted.",
    )
    wider_kind = forms.ChoiceField(
        label="How is your wider area defined?",
        choices=WiderKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how your wider area is defined.",
            "invalid_choice": "Choose how your wider area is defined, from the list.",
        },
    )
    wider_label = forms.CharField(
        label="Name of the wider area",
        required=False,
        max_length=100,
        help_text="Shown on the dashboard and in each supplier's evidence, for "
        "example “Bedfordshire” or “Within 20 miles of Milton Keynes”.",
    )
    wider_districts = DistrictListField(
        label="Postcode districts in your wider area",
        help_text="Used when the wider area is a list of districts, and for a list "
        "of local authorities until the ONS postcode directory is loaded. You may "
        "include your local districts. Leave it empty if you count no wider area.",
    )
    # The fields of one kind of wider area are required (their errors are
    # dropped for the other kinds, whose fields are hidden: see clean).
    wider_authority_codes = AuthorityCodeListField(
        label="ONS codes of the wider area's local authorities",
        required=True,
        error_messages={
            "required": "Enter the ONS codes of the wider area's local "
            "authorities, such as E06000055, or choose another way to define it."
        },
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Such as E06000055, E06000056. Needs the ONS postcode directory; "
        "until it is loaded the districts below decide.",
    )
    wider_region = forms.ChoiceField(
        label="Region",
        error_messages={
            "required": "Choose the region of your wider area, or choose another "
            "way to define it.",
            "invalid_choice": "Choose a region from the list.",
        },
        help_text="A supplier whose postcode district lies in this region is in "
        "your wider area.",
    )
    wider_radius_miles = forms.DecimalField(
        label="Radius in miles",
        max_digits=5,
        decimal_places=1,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        help_text="For example 20.",
        error_messages={
            "required": "Enter the radius in miles, such as 20.",
            "invalid": "Enter the radius as a number of miles, such as 20.",
            "max_digits": "Enter a radius of at most 300 miles.",
            "max_whole_digits": "Enter a radius of at most 300 miles.",
            "max_decimal_places": "Enter the radius to one decimal place at most, "
            "such as 20 or 12.5.",
        },
    )
    wider_centre_district = forms.CharField(
        label="Postcode district at the centre",
        max_length=10,
        error_messages={
            "required": "Enter the postcode district at the centre of the radius, "
            "such as MK9.",
            "max_length": "Enter a postcode district, such as MK9: at most 4 "
            "characters.",
        },
        help_text="Distances are measured between district centres, such as MK9.",
    )

    class Meta:
        model = Council
        fields = [
            "local_districts",
            "local_authority_codes",
            "wider_kind",
            "wider_label",
            "wider_districts",
            "wider_authority_codes",
            "wider_region",
            "wider_radius_miles",
            "wider_centre_district",
            "area_notes",
        ]
        labels = {"area_notes": "Notes on the area"}
        help_texts = {
            "area_notes": "Where the definition came from and why, for whoever "
            "changes it next."
        }
        widgets = {"area_notes": forms.Textarea(attrs={"rows": 4})}

    # The fields each kind of wider area uses, beyond the districts (shown for all).
    KIND_FIELDS = {
        WiderKind.AUTHORITIES: ["wider_authority_codes"],
        WiderKind.REGION: ["wider_region"],
        WiderKind.RADIUS: ["wider_radius_miles", "wider_centre_district"],
    }

    EMPTY = {"wider_authority_codes": [], "wider_radius_miles": None}

    # The area as it was when the page was shown, in the hidden `seen`: a save
    # from a page opened before someone else's save would quietly undo theirs
    # (QA: two tabs). See councils.stale.
    seen_salt = _SEEN_SALT
    seen_what = "the area"
    seen_here = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wider_region"].choices = [("", "Choose a region")] + [
            (r, r) for r in regions()
        ]

    def seen_council(self, held: Council) -> Council:
        return held

    def clean_area_notes(self) -> str:
        notes = self.cleaned_data["area_notes"]
        if len(notes) > AREA_NOTES_LONGEST:
            raise ValidationError(
                f"Keep the notes on the area to {AREA_NOTES_LONGEST:,} characters "
                f"(these have {len(notes):,}): link to a longer document instead."
            )
        return notes

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("wider_kind")
        # Fields of the kinds not chosen are hidden, so their errors could not be
        # seen: drop them, and the values with them.
        for other, names in self.KIND_FIELDS.items():
            if other == kind:
                continue
            for name in names:
                self.errors.pop(name, None)
                data[name] = self.EMPTY.get(name, "")
        if kind == WiderKind.RADIUS:
            self._clean_radius(data)
        return data

    def _clean_radius(self, data: dict) -> None:
        miles = data.get("wider_radius_miles")
        if miles is not None and not 0 < miles <= MAX_RADIUS_MILES:
            self.add_error(
                "wider_radius_miles",
                "Enter a radius more than 0 and at most 300 miles.",
            )
        if "wider_centre_district" in self.errors:
            return
        centre = "".join(clean_text(data.get("wider_centre_district")).upper().split())
        data["wider_centre_district"] = centre
        if parse_postcode(centre) != centre:
            self.add_error(
                "wider_centre_district",
                f"“{centre}” is not a postcode district. Enter the first half of a "
                "postcode, such as MK9.",
            )
        elif not district_table().get(centre, (False, ""))[0]:
            self.add_error(
                "wider_centre_district",
                f"{centre} has no known centre, so distances cannot be measured "
                "from it. Choose a nearby district that has addresses, such as "
                "MK9.",
            )


class PublicPagesForm(forms.Form):
    public_pages_enabled = forms.TypedChoiceField(
        label="Publish the public pages?",
        choices=[("yes", "Yes, publish them"), ("no", "No, keep them off")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether to publish the public pages.",
            "invalid_choice": "Choose whether to publish the public pages.",
        },
    )


class RoleField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Role")
        kwargs.setdefault(
            "error_messages",
            {
                "required": "Choose a role.",
                "invalid_choice": "Choose one of the roles listed.",
            },
        )
        super().__init__(choices=Role.choices, widget=forms.RadioSelect, **kwargs)


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, membership: Membership) -> str:
        user = membership.user
        name = user.get_full_name()
        who = f"{user.get_username()} ({name})" if name else user.get_username()
        return f"{who}, {membership.get_role_display().lower()}"


def _member_field(council: Council, action: str) -> MemberChoiceField:
    return MemberChoiceField(
        label="Member",
        queryset=Membership.objects.filter(council=council)
        .select_related("user")
        .order_by("user__username"),
        empty_label="Choose a member",
        error_messages={
            "required": f"Choose the member whose {action}.",
            "invalid_choice": f"That person is not a member of {council.short_name} "
            "(now): perhaps they were removed already, as Settings → History shows. "
            "Choose a member from the list.",
        },
    )


class MemberRoleForm(forms.Form):
    def __init__(self, *args, council: Council, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"] = _member_field(council, "role to change")
        self.fields["role"] = RoleField(label="New role")


class MemberRemoveForm(forms.Form):
    def __init__(self, *args, council: Council, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"] = _member_field(council, "access to remove")


def _text(label: str, required: str, longest: int, **kwargs) -> forms.CharField:
    """A required text field whose messages say what to do."""
    return forms.CharField(
        label=label,
        max_length=longest,
        error_messages={
            "required": required,
            "max_length": f"Enter at most {longest} characters.",
        },
        **kwargs,
    )


class MemberAddForm(forms.Form):
    """Add an existing account to the council, or create an account and add it.

    The fields of each answer are required, but only the chosen answer's are
    shown (the others are hidden), so only its errors are kept."""

    EXISTING, NEW = "existing", "new"
    FIELDS = {
        EXISTING: ["existing_username"],
        NEW: ["username", "full_name", "email", "password"],
    }
    _PLAIN = {"autocomplete": "off", "spellcheck": "false"}

    account = forms.ChoiceField(
        label="Does the person already have a LocalSpend account?",
        choices=[
            (EXISTING, "Yes, add their account"),
            (NEW, "No, create an account for them"),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether the person already has a LocalSpend account.",
            "invalid_choice": "Choose whether the person already has a LocalSpend "
            "account.",
        },
    )
    existing_username = _text(
        "Username of their account",
        "Enter the username of their LocalSpend account.",
        150,
        widget=forms.TextInput(attrs=_PLAIN),
    )
    username = _text(
        "Username",
        "Enter a username for the new account.",
        150,
        help_text="What they will sign in with. Letters, digits and @ . + - _ only.",
        widget=forms.TextInput(attrs=_PLAIN),
    )
    full_name = _text("Full name", "Enter the person’s full name.", 150)
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs=_PLAIN),
        error_messages={
            "required": "Enter their email address, like name@example.gov.uk.",
            "invalid": "Enter an email address in the correct format, like "
            "name@example.gov.uk.",
            "max_length": "Enter an email address of at most 254 characters.",
        },
    )
    password = _text(
        "Initial password",
        "Enter an initial password for the account.",
        128,
        strip=False,
        help_text="At least 12 characters, not a common password and not all "
        "digits. Give it to them yourself; it is not shown again.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    role = RoleField()

    # The one answer a council administrator gets for an account they may not
    # add, whatever the reason (none, switched off, another council's or a
    # LocalSpend administrator's): which it was would tell them about accounts
    # that are not their council's. A LocalSpend administrator gets the reason.
    NOT_ADDABLE = (
        "No account with the username “{username}” can be added here. Check the "
        "spelling, or create a new account for them; an account that is switched "
        "off or used at another council can be added only by a LocalSpend "
        "administrator."
    )

    def __init__(self, *args, council: Council, by=None, **kwargs):
        """`by`: who is adding. A LocalSpend administrator (a superuser) may add
        any account; anyone else only an account that is this council's alone
        (see `_addable_here`)."""
        super().__init__(*args, **kwargs)
        self.council = council
        self.by_administrator = bool(
            by is not None and by.is_active and by.is_superuser
        )
        self.user = None  # the existing account, once cleaned
        if not self.by_administrator:
            self.fields["existing_username"].help_text = (
                "Only an account no other council uses can be added here: an "
                "account used at another council can be added only by a "
                "LocalSpend administrator."
            )

    def clean(self) -> dict:
        data = super().clean()
        account = data.get("account")
        for answer, names in self.FIELDS.items():
            if answer != account:
                for name in names:
                    self.errors.pop(name, None)
        if account == self.EXISTING and "existing_username" not in self.errors:
            self._clean_existing(data["existing_username"].strip())
        elif account == self.NEW:
            self._clean_new(data)
        return data

    def _clean_existing(self, username: str) -> None:
        User = get_user_model()
        # As accounts are made (NFKC): "ｋofficer" is "kofficer" (QA).
        username = User.normalize_username(username)
        user = User.objects.filter(username=username).first()
        if user is None:
            matches = list(User.objects.filter(username__iexact=username)[:2])
            user = matches[0] if len(matches) == 1 else None
        held = (
            Membership.objects.filter(user=user, council=self.council).first()
            if user is not None
            else None
        )
        if held is not None:  # the list of members shows them: nothing revealed
            self.add_error(
                "existing_username",
                f"{user.get_username()} is already a member of "
                f"{self.council.short_name}, as "
                f"{held.get_role_display().lower()}. To give them another role, "
                "change their role from the list of members.",
            )
        elif not self.by_administrator and (
            user is None or not user.is_active or not self._addable_here(user)
        ):
            # Security review: a council administrator could add any account,
            # and so see another council's officer's name, email and reasons;
            # and the different answers told which usernames exist, and which
            # were switched off.
            self.add_error(
                "existing_username", self.NOT_ADDABLE.format(username=username)
            )
        elif user is None:
            self.add_error(
                "existing_username",
                f"There is no LocalSpend account with the username “{username}”. "
                "Check the spelling, or choose to create an account for them.",
            )
        elif not user.is_active:
            self.add_error(
                "existing_username",
                f"The account “{user.get_username()}” is switched off. Switch it "
                "on in the Django admin (Users) first, or create a new account.",
            )
        else:
            self.user = user

    def _addable_here(self, user) -> bool:
        """Whether a council administrator may add `user`: an account that is this
        council's alone, never a member of another council (now or before:
        made for this council and since removed, or made without a council),
        and not a LocalSpend administrator's (named to no council)."""
        return not user.is_superuser and not members_elsewhere([user.pk], self.council)

    def _clean_new(self, data: dict) -> None:
        User = get_user_model()
        # Checked as the account will be made (NFKC): a look-alike written with
        # full-width letters is the same username (QA: "ｋofficer" made
        # "kofficer" beside another council's "KOfficer").
        username = User.normalize_username(data.get("username", "").strip())
        data["username"] = username
        if "username" not in self.errors:
            try:
                User.username_validator(username)
            except ValidationError:
                self.add_error(
                    "username",
                    "Enter a username using only letters, digits and @ . + - _ "
                    "(no spaces).",
                )
            else:
                if User.objects.filter(username__iexact=username).exists():
                    self.add_error(
                        "username",
                        f"The username “{username}” is taken. Choose another "
                        "(usernames are the same whatever their capitals).",
                    )
        if "password" not in self.errors:
            first, last = split_name(data.get("full_name", ""))
            candidate = User(
                username=username,
                first_name=first,
                last_name=last,
                email=data.get("email") or "",
            )
            try:
                password_validation.validate_password(data["password"], candidate)
            except ValidationError as error:
                self.add_error(
                    "password",
                    " ".join(error.messages) + " Choose another password.",
                )


def split_name(full_name: str) -> tuple[str, str]:
    """First and last name from a full name: the last word is the last name."""
    words = full_name.split()
    if len(words) < 2:
        return " ".join(words), ""
    return " ".join(words[:-1]), words[-1]
