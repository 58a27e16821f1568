"""``{{ value|points }}``: monthly points as people write them — 25.50 → 25.5, 13.00 → 13, None → —."""

from django import template

from kefu.evaluations.monthly import number_text

register = template.Library()


@register.filter
def points(value):
    return number_text(value)
