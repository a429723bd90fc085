"""One page of a staff list: Django's paginator plus the query string of the other filters, so the
pager's links keep the tab, the search and the rest (templates/components/pager.html)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def page_of(request: HttpRequest, queryset: QuerySet, per_page: int) -> tuple[Page, str]:
    """The page ?page= asks for (the last one past the end, the first one for junk), costing two
    queries whatever the list's size: a COUNT and the page's rows. Also the query string without
    ``page`` for the pager's links."""
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    others = request.GET.copy()
    others.pop("page", None)
    return page, others.urlencode()
