from django.db import models
from django_countries import countries


def country_codes():
    """Every code django-countries knows, with the overrides of settings.COUNTRIES_OVERRIDE."""
    return [code for code, _ in countries]


class Party(models.Model):
    """A state that can be party to an agreement, by ISO 3166-1 alpha-2 code.

    The table only holds the codes, so that foreign keys refuse a code that is not
    a state; the English name comes from django-countries (with the overrides in
    settings.COUNTRIES_OVERRIDE for Kosovo and historical states).
    """

    code = models.CharField(max_length=2, primary_key=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "parties"
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[A-Z]{2}$"), name="party_code_is_two_letters"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return f"/parties/{self.code}/"

    @property
    def name(self):
        return countries.name(self.code) or self.code
