"""The clinic's rule thresholds: plans.rules.RuleConfig built from settings.CLINIC_RULES.

Items the domain reference tags [U] are settings (environment variables RULE_*, see clinic/settings.py);
rules.py stays pure and takes the config as an argument."""

import dataclasses

from django.conf import settings

from plans.rules import RuleConfig


def rule_config() -> RuleConfig:
    known = {field.name for field in dataclasses.fields(RuleConfig)}
    overrides = {key: value for key, value in getattr(settings, "CLINIC_RULES", {}).items() if key in known}
    return RuleConfig(**overrides)


def outcome_config() -> "OutcomeConfig":
    """The outcomes registry's thresholds (plans.rules.outcomes.OutcomeConfig) from settings.CLINIC_OUTCOMES."""
    from decimal import Decimal

    from plans.rules.outcomes import OutcomeConfig

    known = {field.name for field in dataclasses.fields(OutcomeConfig)}
    values = {key: value for key, value in getattr(settings, "CLINIC_OUTCOMES", {}).items() if key in known}
    for key in ("responder_reduction_percent", "relapse_percent_of_baseline"):
        if key in values:
            values[key] = Decimal(str(values[key]))
    if "holidays" in values:
        values["holidays"] = frozenset(values["holidays"])
    values["followup_months"] = tuple(rule_config().followup_months)
    return OutcomeConfig(**values)
