"""Template helpers of the uniforms pages."""

from __future__ import annotations

from typing import Any

from django import template

from kefu.people.access import has_role
from kefu.uniforms.access import PERSON_VIEWERS, READ_ALL

register = template.Library()


@register.inclusion_tag("uniforms/includes/nav.html", takes_context=True)
def uniforms_nav(context: dict[str, Any], section: str = "") -> dict[str, Any]:
    user = context["request"].user
    return {
        "section": section,
        "uniforms_reads_stock": has_role(user, *READ_ALL),
        "uniforms_reads_people": has_role(user, *PERSON_VIEWERS),
    }
