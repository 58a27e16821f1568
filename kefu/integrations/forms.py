from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.integrations.models import ChatHook
from kefu.people.forms import BootstrapMixin
from kefu.people.models import OrgUnit


class ChatHookForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    org_unit = forms.ModelChoiceField(label=_("Department"), queryset=OrgUnit.objects.filter(active=True),
                                      help_text=_("The bot gets the notifications of people in this unit and "
                                                  "every unit below it."))
    kind = forms.ChoiceField(label=_("Kind"), choices=ChatHook.Kind.choices)
    url = forms.URLField(label=_("Webhook URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(label=_("Signing secret"), required=False, max_length=200,
                             widget=forms.PasswordInput(render_value=False),
                             help_text=_("DingTalk (SEC…) or Feishu signature secret. Left empty when "
                                         "editing: the stored secret stays."))
    clear_secret = forms.BooleanField(label=_("Remove the stored secret"), required=False)
    events = forms.CharField(label=_("Events"), required=False,
                             help_text=_("Comma-separated notification kinds; empty: every event."))
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)


class MessageTemplateForm(BootstrapMixin, forms.Form):
    event = forms.CharField(label=_("Event"), max_length=64)
    text = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("Placeholders: {{ title }}, {{ body }}, {{ link }}, {{ recipients }}, "
                                       "{{ event }}. Empty: the default message."))


class HrSyncForm(BootstrapMixin, forms.Form):
    org_units = forms.FileField(label=_("Org units (CSV or .xlsx)"), required=False)
    employees = forms.FileField(label=_("Employees (CSV or .xlsx)"), required=False)
    dry_run = forms.BooleanField(label=_("Dry run: only report what would change"), required=False, initial=True)

    def clean(self):
        data = super().clean()
        if not data.get("org_units") and not data.get("employees"):
            raise forms.ValidationError(_("Choose a file."))
        return data
