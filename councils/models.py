"""Councils (the tenants of LocalSpend) and who may do what in each."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class Capability(StrEnum):
    """What a role lets a user do inside one council."""

    VIEW = "view"
    UPLOAD = "upload"
    EDIT_REGISTER = "edit_register"  # suppliers, contracts, tags, social value
    MANAGE_COUNCIL = "manage_council"  # local area, targets, users


class Role(models.TextChoices):
    ADMIN = "admin", "Council administrator"
    PROCUREMENT = "procurement", "Procurement officer"
    FINANCE = "finance", "Finance officer"
    VIEWER = "viewer", "Cabinet member or councillor (read only)"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.PROCUREMENT: frozenset(
        {Capability.VIEW, Capability.UPLOAD, Capability.EDIT_REGISTER}
    ),
    Role.FINANCE: frozenset({Capability.VIEW, Capability.UPLOAD}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}


class WiderKind(models.TextChoices):
    DISTRICTS = "districts", "A list of postcode districts"
    AUTHORITIES = "authorities", "A list of local authorities"
    REGION = "region", "A region"
    RADIUS = "radius", "A radius around a centre"


class CouncilQuerySet(models.QuerySet):
    def for_user(self, user) -> CouncilQuerySet:
        """The councils whose private data `user` may see: the one scoping rule."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user)


# Why a council's first history record was written (`load_councils`).
PRESET_LOADED = "Set up from LocalSpend's preset councils"
FIRST_RECORDED = "Recorded as it stood when LocalSpend began keeping its history"


class CouncilManager(models.Manager.from_queryset(CouncilQuerySet)):
    def get_by_natural_key(self, slug: str) -> Council:
        return self.get(slug=slug)


class Council(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    short_name = models.CharField(
        max_length=100, help_text="Shown in the header, e.g. “Luton”."
    )
    gss_code = models.CharField(
        "ONS/GSS code", max_length=9, unique=True, help_text="For example E06000032."
    )
    local_districts = models.JSONField(
        default=list,
        blank=True,
        help_text="Postcode districts inside the council's own area, e.g. LU1.",
    )
    local_authority_codes = models.JSONField(
        default=list,
        blank=True,
        help_text="GSS codes of the local tier, used once the ONS postcode "
        "directory is loaded.",
    )
    wider_kind = models.CharField(
        max_length=12, choices=WiderKind.choices, default=WiderKind.DISTRICTS
    )
    wider_label = models.CharField(
        max_length=100, blank=True, help_text="For example “Bedfordshire”."
    )
    wider_districts = models.JSONField(default=list, blank=True)
    wider_authority_codes = models.JSONField(default=list, blank=True)
    wider_region = models.CharField(max_length=60, blank=True)
    wider_radius_miles = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True
    )
    wider_centre_district = models.CharField(max_length=5, blank=True)
    area_notes = models.TextField(
        blank=True, help_text="Where the area definition came from, and why."
    )
    public_pages_enabled = models.BooleanField(default=False)

    objects = CouncilManager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(slug=""), name="council_slug_not_blank"
            ),
            models.CheckConstraint(
                condition=~Q(wider_kind="radius")
                | Q(wider_radius_miles__gt=0, wider_centre_district__gt=""),
                name="council_radius_needs_centre_and_miles",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class Membership(models.Model):
    """A user's role in one council. A user may belong to several councils."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=12, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["council__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "council"], name="membership_one_role_per_council"
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.council}"

    @property
    def capabilities(self) -> frozenset[Capability]:
        return ROLE_CAPABILITIES[self.role]


class CouncilScopedQuerySet(models.QuerySet):
    """Base queryset for every model a council owns (it must have a `council` FK)."""

    def for_user(self, user) -> CouncilScopedQuerySet:
        return self.filter(council__in=Council.objects.for_user(user))

    def for_council(self, council: Council) -> CouncilScopedQuerySet:
        return self.filter(council=council)
