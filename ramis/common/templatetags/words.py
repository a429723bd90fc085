"""Words a person reads (issue 13 item 5): audit events in Persian on every staff timeline.
A builtin library (settings.TEMPLATES), like ``jalali``."""

from __future__ import annotations

from django import template

from ramis.common import event_words

register = template.Library()


@register.filter
def event_line(entry) -> str:
    """An audit entry's event, and the status it moved, in Persian (ramis/common/event_words.py)."""
    return event_words.describe(entry)


@register.filter
def event_phrase(event: str) -> str:
    return event_words.phrase(event)
