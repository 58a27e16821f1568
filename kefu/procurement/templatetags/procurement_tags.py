"""Template helpers of the procurement pages."""

from __future__ import annotations

from typing import Any

from django import template

from kefu.procurement.access import is_approver, is_buyer

register = template.Library()

# Bootstrap badge colour per status value (every procurement state machine).
BADGES = {
    "draft": "text-bg-secondary", "submitted": "text-bg-primary", "awaiting_second": "text-bg-info",
    "returned": "text-bg-warning", "rejected": "text-bg-danger", "approved": "text-bg-success",
    "open": "text-bg-primary", "award_pending": "text-bg-warning", "awarded": "text-bg-success",
    "pending": "text-bg-warning", "effective": "text-bg-success",
    "issued": "text-bg-primary", "partially_received": "text-bg-info", "closed": "text-bg-success",
    "posted": "text-bg-success", "qualified": "text-bg-success", "suspended": "text-bg-warning",
    "blacklisted": "text-bg-danger",
}


@register.inclusion_tag("procurement/includes/nav.html", takes_context=True)
def procurement_nav(context: dict[str, Any], section: str = "") -> dict[str, Any]:
    user = context["request"].user
    return {"section": section, "is_buyer": is_buyer(user), "is_approver": is_approver(user)}


@register.inclusion_tag("procurement/includes/status.html")
def status_badge(obj: Any, testid: str = "status") -> dict[str, Any]:
    return {"status": obj.status, "label": obj.get_status_display(), "css": BADGES.get(obj.status, "text-bg-secondary"),
            "testid": testid}


@register.filter
def percent(value: Any) -> str:
    """A rate 0-1 as a percentage with one decimal, or an em dash."""
    if value is None:
        return "—"
    return f"{value * 100:.1f} %"


@register.filter
def money(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{value:,.2f}"
