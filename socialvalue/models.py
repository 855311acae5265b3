"""Targets for the share of spend that is local, SME, VCSE or Living Wage."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from councils.models import Council, CouncilScopedQuerySet
from councils.periods import FinancialYear


class Metric(models.TextChoices):
    LOCAL = "local", "Local spend"
    SME = "sme", "SME spend"
    VCSE = "vcse", "VCSE spend"
    LIVING_WAGE = "living_wage", "Real Living Wage employer spend"


class Target(models.Model):
    """A pledge: `metric` moves linearly from the baseline year's share to the target's."""

    council = models.ForeignKey(
        Council, on_delete=models.CASCADE, related_name="targets"
    )
    metric = models.CharField(max_length=12, choices=Metric.choices)
    baseline_year = models.PositiveSmallIntegerField(
        help_text="First calendar year of the baseline financial year (2017 = 2017/18)."
    )
    baseline_share = models.DecimalField(
        "baseline share (%)", max_digits=5, decimal_places=2
    )
    target_year = models.PositiveSmallIntegerField(
        help_text="First calendar year of the target financial year (2023 = 2023/24)."
    )
    target_share = models.DecimalField(
        "target share (%)", max_digits=5, decimal_places=2
    )
    notes = models.TextField(blank=True, help_text="Where the pledge comes from.")

    objects = CouncilScopedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["council", "metric", "target_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "metric", "target_year"],
                name="target_one_per_metric_and_year",
            ),
            models.CheckConstraint(
                condition=Q(target_year__gt=F("baseline_year")),
                name="target_year_after_baseline",
            ),
            models.CheckConstraint(
                condition=Q(baseline_share__gte=0, baseline_share__lte=100)
                & Q(target_share__gte=0, target_share__lte=100),
                name="target_shares_are_percentages",
            ),
            models.CheckConstraint(
                condition=Q(metric__in=Metric.values), name="target_metric_valid"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_metric_display()}: {self.baseline_share}% in "
            f"{self.baseline_fy} to {self.target_share}% in {self.target_fy}"
        )

    @property
    def baseline_fy(self) -> FinancialYear:
        return FinancialYear(self.baseline_year)

    @property
    def target_fy(self) -> FinancialYear:
        return FinancialYear(self.target_year)

    def share_for(self, year: FinancialYear) -> Decimal | None:
        """The trajectory's share for `year`: linear from baseline to target, then
        held at the target; None before the baseline year."""
        if year.start_year < self.baseline_year:
            return None
        if year.start_year >= self.target_year:
            return self.target_share
        steps = Decimal(self.target_year - self.baseline_year)
        done = Decimal(year.start_year - self.baseline_year)
        share = self.baseline_share + (self.target_share - self.baseline_share) * (
            done / steps
        )
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
