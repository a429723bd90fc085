"""bench/pages.py's server settings: the portal's own, plus one bare view (bench/pages_urls.py) in
the same server, so a page's figures can be set beside the cost of Django's request path alone."""

from ramis.settings import *  # noqa: F403

ROOT_URLCONF = "pages_urls"
