"""The "API tokens" page: a signed-in person makes and revokes her own personal API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kefu.core import services
from kefu.core.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. “HR system sync”."),
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )


def _page(request, form: TokenForm, *, created: ApiToken | None = None, plaintext: str = "", status: int = 200):
    tokens = ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at")
    return render(
        request, "core/api_tokens.html",
        {"tokens": tokens, "form": form, "created": created, "plaintext": plaintext},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """GET lists her tokens; POST makes one and shows its plaintext on this one answer only."""
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                token, plaintext = services.api_token_create(
                    actor=request.user, user=request.user, name=form.cleaned_data["name"]
                )
            except ValidationError as e:
                form.add_error(None, e)
            else:
                return _page(request, TokenForm(), created=token, plaintext=plaintext)
        return _page(request, form, status=400)
    return _page(request, TokenForm())


@require_http_methods(["GET", "POST"])
def api_token_revoke(request, pk: int):
    """GET asks for confirmation, POST revokes. Another person's token does not exist here (404)."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if request.method == "POST":
        was_active = token.revoked_at is None
        services.api_token_revoke(actor=request.user, token=token)
        if was_active:
            messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
        return redirect("core:api_tokens")
    if token.revoked_at is not None:
        messages.info(request, _("The token “%(name)s” was already revoked.") % {"name": token.name})
        return redirect("core:api_tokens")
    return render(request, "core/api_token_revoke.html", {"token": token})
