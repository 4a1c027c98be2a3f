from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from plans.services.aftercare import (
    ERR_UNKNOWN_PLACEHOLDER,
    PLACEHOLDERS,
    unknown_placeholders,
)


def _placeholder_list() -> str:
    return ", ".join("{%s}" % name for name in PLACEHOLDERS)


class AftercareTextForm(forms.Form):
    """An edit of an aftercare text; saving publishes it as a new version."""

    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "Plain text. A blank line starts a new paragraph; a line starting with \"- \" is a bullet. "
            "Placeholders filled from the session: %(names)s."
        ) % {"names": _placeholder_list()},
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout(Field("title"), Field("body"), Field("base_version"))
        self.helper.add_input(Submit("save", _("Save as a new version")))

    def _check_placeholders(self, value: str) -> str:
        unknown = unknown_placeholders(value)
        if unknown:
            raise forms.ValidationError(
                ERR_UNKNOWN_PLACEHOLDER.format(
                    names=", ".join("{%s}" % n for n in unknown), allowed=_placeholder_list()
                )
            )
        return value

    def clean_title(self):
        return self._check_placeholders(self.cleaned_data["title"])

    def clean_body(self):
        return self._check_placeholders(self.cleaned_data["body"])
