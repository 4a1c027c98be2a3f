"""Filters for text a patient reads."""

from django import template

from plans import rules

register = template.Library()


@register.filter
def for_patient(text):
    """Staff-written text with internal source references (S12, §5) taken out: a patient never reads them."""
    if not isinstance(text, str):
        return text  # a number or a missing value: nothing to take out
    return rules.without_source_keys(text)
