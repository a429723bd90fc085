"""N6: what counts as a domain."""

import pytest
from django.core.exceptions import ValidationError

from enamad.businesses.domains import display_domain, host_matches, normalize_domain


@pytest.mark.parametrize(("typed", "stored"), [
    ("shop.ir", "shop.ir"),
    ("  Shop.IR ", "shop.ir"),
    ("https://www.shop.ir/", "shop.ir"),
    ("http://shop.co.ir", "shop.co.ir"),
    ("shop.ir/", "shop.ir"),
    ("فروشگاه.ایران", "xn--mgbtj4c7ad63e.xn--mgba3a4f16a"),
    ("Bücher.example", "xn--bcher-kva.example"),
])
def test_normalised(typed, stored):
    assert normalize_domain(typed) == stored


@pytest.mark.parametrize(("typed", "code"), [
    ("192.168.1.10", "ip"),
    ("http://185.1.2.3/", "ip"),
    ("[::1]", "ip"),
    ("shop.ir/products", "path"),
    ("https://shop.ir/cart?x=1", "path"),
    ("ftp://shop.ir", "scheme"),
    ("localhost", "invalid"),
    ("shop", "invalid"),
    ("-shop.ir", "invalid"),
    ("shop..ir", "invalid"),
    ("shop.123", "invalid_tld"),
    ("shop.ir:8080", "port"),
    ("user@shop.ir", "invalid"),
    ("", "required"),
])
def test_refused_with_a_clear_message(typed, code):
    with pytest.raises(ValidationError) as info:
        normalize_domain(typed)
    assert info.value.code == code
    assert info.value.messages[0]  # a Persian sentence, not a traceback


def test_display_form_is_unicode():
    assert display_domain("xn--mgbtj4c7ad63e.xn--mgba3a4f16a") == "فروشگاه.ایران"


@pytest.mark.parametrize(("host", "ok"), [
    ("shop.ir", True), ("www.shop.ir", True), ("a.b.shop.ir", True), ("SHOP.IR", True), ("shop.ir:8443", True),
    ("evilshop.ir", False), ("shop.ir.evil.com", False), ("", False), (None, False),
])
def test_host_matches_domain_or_subdomain(host, ok):
    assert host_matches(host, "shop.ir") is ok
