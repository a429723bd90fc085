"""The certificate page's download links (issue 13 item 5): each format's Latin run («DER (.cer)»,
«PEM (.pem)», «PKCS#7 (.p7b)») isolated as one left-to-right piece, so it never reads «(.cer) DER»."""

from __future__ import annotations

import re

from django.urls import reverse

from .test_certificate_page import certificate  # noqa: F401 - the fixture


def test_download_links_isolate_their_latin_run(applicant_client, certificate):  # noqa: F811
    html = applicant_client.get(reverse("requests:certificate", args=[certificate.pk])).content.decode()
    downloads = html[html.index('id="certificate-downloads"'):]
    for run in ("DER (.cer)", "PEM (.pem)", "PKCS#7 (.p7b)"):
        assert f'<bdi dir="ltr">{run}</bdi>' in downloads, run
    # no Latin word left outside an isolate inside a Persian link text
    for text in re.findall(r"<a [^>]*download>(.*?)</a>", downloads):
        assert not re.search(r"[A-Za-z]", re.sub(r"<bdi[^>]*>.*?</bdi>", "", text)), text
