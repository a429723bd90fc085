"""``{% file_lifecycle business %}``: the e-Namad file's lifecycle strip (``enamad.businesses.lifecycle``)."""

from django import template

from enamad.businesses import lifecycle

register = template.Library()


@register.inclusion_tag("enamad/_lifecycle.html")
def file_lifecycle(business):
    return lifecycle.strip(business.status)
