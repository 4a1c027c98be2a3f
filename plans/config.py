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
