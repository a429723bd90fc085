"""N7, N22: domain verification by meta tag, temporary page title, file and DNS TXT against real local servers
(HTTP, HTTPS with a test CA, and a dnslib DNS server), including failures, timeouts, redirects,
the size cap and the refusal of private addresses."""

import pytest

from enamad.businesses import verification
from enamad.businesses.services import business_verify_domain
from enamad.models import Business
from ramis.common.models import AuditEntry, OutboxMessage
from tests.enamad.conftest import DOMAIN, make_business

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(account):
    return make_business(account, ready=False)


def home_with(meta: str) -> bytes:
    return f"<html><head><title>Shop</title>{meta}</head><body>سلام</body></html>".encode()


def test_meta_tag_verifies(local_net, draft):
    local_net["http"].routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    result = business_verify_domain(business_id=draft.pk)
    assert result.ok and result.method == "meta"
    draft.refresh_from_db()
    assert draft.domain_verified_at is not None and draft.domain_verified_method == "meta"
    assert draft.tls_valid is False  # no HTTPS listener: one star later
    assert (DOMAIN, "/") in local_net["http"].requests  # the Host header names the domain
    assert AuditEntry.objects.filter(event="enamad.business.domain_verified", new="meta").count() == 1
    assert OutboxMessage.objects.filter(template="enamad_domain_verified").exists()


def test_file_verifies(local_net, draft):
    local_net["http"].routes["/"] = (200, home_with(""), {})
    local_net["http"].routes[f"/{draft.verification_token}.txt"] = (200, f"{draft.verification_token}\n".encode(),
                                                                     {"Content-Type": "text/plain"})
    result = business_verify_domain(business_id=draft.pk)
    assert result.ok and result.method == "file"


def test_dns_txt_verifies(local_net, draft):
    local_net["dns"].txt[DOMAIN] = ["v=spf1 -all", draft.verification_txt_record()]
    result = business_verify_domain(business_id=draft.pk)
    assert result.ok and result.method == "dns"
    assert (DOMAIN, "TXT") in local_net["dns"].queries


def test_wrong_token_fails_with_reason(local_net, draft):
    local_net["http"].routes["/"] = (200, home_with('<meta name="enamad" content="someone-elses-token">'), {})
    local_net["dns"].txt[DOMAIN] = ["enamad-verification=someone-elses-token"]
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok
    draft.refresh_from_db()
    assert draft.domain_verified_at is None
    assert "یافت نشد" in draft.domain_check_error


def test_https_with_valid_certificate_gives_tls(local_net, https_site, settings, draft):
    settings.ENAMAD_VERIFY_HTTPS_PORT = https_site.port
    settings.ENAMAD_VERIFY_CA_FILE = https_site.ca_file
    https_site.routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    result = business_verify_domain(business_id=draft.pk)
    assert result.ok and result.tls_valid
    assert local_net["http"].requests == []  # HTTPS first: plain HTTP was never needed
    draft.refresh_from_db()
    assert draft.tls_valid


def test_untrusted_certificate_falls_back_to_http_without_tls(local_net, https_site, settings, draft):
    settings.ENAMAD_VERIFY_HTTPS_PORT = https_site.port  # no CA file: the test CA is not trusted
    https_site.routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    local_net["http"].routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    result = business_verify_domain(business_id=draft.pk)
    assert result.ok and not result.tls_valid


def test_private_address_refused_unless_allowed(local_net, settings, draft):
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = False
    local_net["http"].routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok
    assert local_net["http"].requests == []  # not a single byte was sent to 127.0.0.1
    draft.refresh_from_db()
    assert "نشانی خصوصی" in draft.domain_check_error


@pytest.mark.parametrize("address", ["fec0::1", "100.64.0.1", "2002:a00:1::1", "64:ff9b::a00:1"])
def test_a_name_leading_to_a_non_global_address_is_not_contacted(local_net, draft, settings, address):
    """Resolved with dnspython through the configured server; whatever the name leads to
    (site-local IPv6, shared IPv4, 6to4 or NAT64 around a private IPv4 …) is refused before any
    connection, with the Persian reason."""
    zone = local_net["dns"]
    del zone.a[DOMAIN]
    (zone.aaaa if ":" in address else zone.a)[DOMAIN] = address
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok and "نشانی خصوصی" in result.error
    assert (DOMAIN, "AAAA" if ":" in address else "A") in zone.queries
    assert local_net["http"].requests == []


def test_loopback_allowance_does_not_open_private_ranges(settings):
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = True
    assert verification.address_allowed("127.0.0.1") and verification.address_allowed("::1")
    for address in ("10.0.0.1", "192.168.1.1", "fec0::1", "169.254.169.254", "100.64.0.1"):
        assert not verification.address_allowed(address)


@pytest.mark.parametrize("address", ["10.1.2.3", "169.254.169.254", "192.168.0.1", "::1", "fe80::1", "0.0.0.0",
                                     "::ffff:127.0.0.1", "224.0.0.1"])
def test_address_filter(settings, address):
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = False
    assert not verification.address_allowed(address)


def test_public_address_allowed(settings):
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = False
    assert verification.address_allowed("185.143.233.1")


def test_redirect_to_other_host_is_not_followed(local_net, draft):
    local_net["dns"].a["evil.test"] = "127.0.0.1"
    local_net["http"].routes["/"] = (302, b"", {"Location": "http://evil.test/"})
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok
    assert [host for host, _ in local_net["http"].requests if host == "evil.test"] == []
    assert "دامنه دیگری" in result.error


def test_redirect_to_www_is_followed(local_net, draft):
    local_net["http"].routes["/"] = (301, b"", {"Location": f"http://www.{DOMAIN}/home"})
    local_net["http"].routes["/home"] = (200, home_with(draft.verification_meta_tag()), {})
    result = business_verify_domain(business_id=draft.pk)
    assert result.ok
    assert (f"www.{DOMAIN}", "/home") in local_net["http"].requests


def test_size_cap(local_net, settings, draft):
    settings.ENAMAD_VERIFY_MAX_BYTES = 1000
    padding = b"<!--" + b"x" * 5000 + b"-->"
    local_net["http"].routes["/"] = (200, b"<html><head>" + padding + draft.verification_meta_tag().encode() + b"</head>", {})
    page = verification.fetch(DOMAIN, "/", scheme="http")
    assert len(page.body) == 1000
    assert not business_verify_domain(business_id=draft.pk).ok


def test_timeout(local_net, settings, draft):
    settings.ENAMAD_VERIFY_TIMEOUT_SECONDS = 1
    local_net["http"].delay = 2.5
    local_net["http"].routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok
    assert "زمان مقرر" in result.error


def test_unknown_domain(local_net, account):
    business = make_business(account, domain="nowhere.test", ready=False)
    result = business_verify_domain(business_id=business.pk)
    assert not result.ok
    assert "پیدا نشد" in result.error


def test_second_claim_on_a_verified_domain_fails(local_net, account, other_account, draft):
    local_net["http"].routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    assert business_verify_domain(business_id=draft.pk).ok
    rival = make_business(other_account, ready=False)
    local_net["http"].routes["/"] = (200, home_with(rival.verification_meta_tag()), {})
    result = business_verify_domain(business_id=rival.pk)
    assert not result.ok
    rival.refresh_from_db()
    assert rival.domain_verified_at is None
    assert "کسب‌وکار دیگری" in rival.domain_check_error


def test_check_now_button_runs_the_task(local_net, owner_client, draft, django_capture_on_commit_callbacks):
    local_net["http"].routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/enamad/panel/business/{draft.pk}/technical/")
    response = owner_client.get(response["Location"])
    assert "تأییدیه فنی در" in response.content.decode()
    assert Business.objects.get(pk=draft.pk).domain_verified_at is not None


def test_periodic_task_checks_pending_drafts(local_net, draft):
    from enamad.tasks import verify_pending_domains

    local_net["http"].routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    assert verify_pending_domains() == 1
    assert Business.objects.get(pk=draft.pk).domain_verified_at is not None


# --- N22: a temporary page title ---------------------------------------------------------------


def titled(title: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><h1>فروشگاه</h1></body></html>".encode()


def test_temporary_page_title_verifies_over_http(local_net, owner_client, draft):
    page = owner_client.get(f"/enamad/panel/business/{draft.pk}/technical/").content.decode()
    assert 'id="title-code"' in page and f"&lt;title&gt;{draft.verification_token}&lt;/title&gt;" in page
    local_net["http"].routes["/"] = (200, titled(f"کد اینماد {draft.verification_token} | فروشگاه"), {})
    result = business_verify_domain(business_id=draft.pk)
    assert result.ok and result.method == "title"
    assert local_net["http"].requests == [(DOMAIN, "/")]  # the home page alone, no file request
    draft.refresh_from_db()
    assert draft.domain_verified_at is not None and draft.domain_verified_method == "title"
    assert AuditEntry.objects.filter(event="enamad.business.domain_verified", new="title").count() == 1
    page = owner_client.get(f"/enamad/panel/business/{draft.pk}/technical/").content.decode()
    assert "عنوان موقت صفحه اول" in page and 'id="title-note"' in page


def test_temporary_page_title_over_https(local_net, https_site, settings, draft):
    settings.ENAMAD_VERIFY_HTTPS_PORT = https_site.port
    settings.ENAMAD_VERIFY_CA_FILE = https_site.ca_file
    https_site.routes["/"] = (200, titled(draft.verification_token), {})
    result = business_verify_domain(business_id=draft.pk)
    assert result.ok and result.method == "title" and result.tls_valid
    assert local_net["http"].requests == []


@pytest.mark.parametrize("body", [
    # the code elsewhere on the page, in a second title, or glued into a longer word is not the title
    "<html><head><title>shop</title></head><body>{token}</body></html>",
    "<html><head><title>shop</title><title>{token}</title></head></html>",
    "<html><head><title>x{token}y</title></head></html>",
    "<html><head><meta name='description' content='{token}'></head></html>",
])
def test_the_code_must_be_a_word_of_the_title(local_net, draft, body):
    local_net["http"].routes["/"] = (200, body.format(token=draft.verification_token).encode(), {})
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok and "عنوان صفحه" in result.error
    assert Business.objects.get(pk=draft.pk).domain_verified_at is None


def test_a_title_on_an_error_page_does_not_count(local_net, draft):
    local_net["http"].routes["/"] = (404, titled(draft.verification_token), {})
    assert not business_verify_domain(business_id=draft.pk).ok


def test_title_on_a_private_address_is_refused(local_net, settings, draft):
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = False
    local_net["http"].routes["/"] = (200, titled(draft.verification_token), {})
    result = business_verify_domain(business_id=draft.pk)
    assert not result.ok and local_net["http"].requests == []


def test_the_loopback_allowance_is_refused_by_the_deploy_check(settings):
    from enamad.checks import loopback_verification_in_production

    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = True
    assert [error.id for error in loopback_verification_in_production(None)] == ["enamad.E001"]
    settings.ENAMAD_VERIFY_ALLOW_LOOPBACK = False
    assert loopback_verification_in_production(None) == []


def test_one_lookup_per_connection_and_the_checked_address_is_the_one_used(local_net, monkeypatch):
    """DNS rebinding: a zone that answers the loopback site first and a private address after
    gets exactly one question per connection, and the connection goes to the vetted answer."""
    zone, site = local_net["dns"], local_net["http"]
    site.routes["/"] = (200, b"<html><title>ok</title></html>", {})
    answers = iter(["127.0.0.1", "10.0.0.1", "10.0.0.1"])
    answer_with = zone.resolve

    def rebinding(request, handler):
        if request.q.qtype == 1:  # A
            zone.a[DOMAIN] = next(answers)
        return answer_with(request, handler)

    monkeypatch.setattr(zone, "resolve", rebinding)
    page = verification.fetch(DOMAIN, "/", scheme="http")
    assert page.status == 200 and site.requests == [(DOMAIN, "/")]
    assert zone.queries.count((DOMAIN, "A")) == 1


def test_the_resolver_may_be_named(local_net, settings, draft):
    """ENAMAD_DNS_RESOLVER=host:port with a host name (dnspython itself takes only addresses)."""
    settings.ENAMAD_DNS_RESOLVER = f"localhost:{local_net['dns'].port}"
    local_net["http"].routes["/"] = (200, home_with(draft.verification_meta_tag()), {})
    assert business_verify_domain(business_id=draft.pk).ok
