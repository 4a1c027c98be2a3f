from django.db import models

from clinic.appendonly import AppendOnlyHistory

__all__ = ["ExosomeProduct", "Lot", "ExosomeSource", "StorageFormat", "LabelledRoute"]


class ExosomeSource(models.TextChoices):  # S59
    MSC_ADIPOSE = "msc_adipose", "Human MSC, adipose-derived"
    MSC_UMBILICAL = "msc_umbilical", "Human MSC, umbilical-cord-derived"
    ANIMAL = "animal", "Animal-derived"
    PLANT = "plant", "Plant-derived (e.g. rose stem cell)"
    OTHER = "other", "Other"


class StorageFormat(models.TextChoices):  # S59: frozen vs lyophilized
    FROZEN = "frozen", "Frozen"
    LYOPHILIZED = "lyophilized", "Lyophilized"


class LabelledRoute(models.TextChoices):  # S56, S57
    TOPICAL_ONLY = "topical_only", "Topical only"
    OTHER = "other", "Other (as labelled)"


class ExosomeProduct(models.Model):
    name = models.CharField(max_length=120)
    manufacturer = models.CharField(max_length=120)
    source = models.CharField(max_length=20, choices=ExosomeSource.choices)
    storage_format = models.CharField(max_length=20, choices=StorageFormat.choices)
    # S59/S60 [U]: temperatures and times after reconstitution are product-specific, so free text per product.
    storage_rule = models.CharField(max_length=300, help_text="Manufacturer's storage and reconstitution rule")
    # Regulatory facts (§6): no exosome product is FDA-approved; injection outside a trial is not permitted and
    # topical "cosmetic" use is a grey zone (S56, S57). The clinic records its decision to use the product.
    route_labelled = models.CharField(
        "route on the label", max_length=20, choices=LabelledRoute.choices, default=LabelledRoute.TOPICAL_ONLY
    )
    regulatory_status = models.CharField(
        max_length=300, blank=True, help_text="e.g. Not FDA-approved; marketed as a cosmetic for topical use"
    )
    clinic_decision = models.TextField("clinic's decision", blank=True, help_text="Why and how the clinic uses it")
    is_active = models.BooleanField(default=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["manufacturer", "name"], name="unique_product")]

    def __str__(self):
        return f"{self.name} ({self.manufacturer})"


class Lot(models.Model):
    """A batch of a product. Every use is traceable for recalls and AE reporting (S58, S59, S60)."""

    product = models.ForeignKey(ExosomeProduct, on_delete=models.PROTECT, related_name="lots")
    number = models.CharField("lot number", max_length=60)
    expiry_date = models.DateField()
    received_on = models.DateField()
    quantity = models.PositiveIntegerField(help_text="Vials received")
    recalled_at = models.DateTimeField(null=True, blank=True)
    recall_reason = models.CharField(max_length=300, blank=True)
    history = AppendOnlyHistory()

    class Meta:
        ordering = ["product__name", "expiry_date"]
        constraints = [models.UniqueConstraint(fields=["product", "number"], name="unique_lot_per_product")]

    def __str__(self):
        return f"{self.product.name} lot {self.number}"

    def is_usable_on(self, day) -> bool:
        return self.recalled_at is None and self.expiry_date >= day
