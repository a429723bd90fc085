"""Certificate profiles as data.

A profile says which subject fields a certificate carries (and where each
comes from in the caller's subject data), its key usages, extended key
usages, policy, allowed key types, default validity and the pkilint
certificate type it is linted as. :mod:`ramis.ca.builder` reads these tables;
adding a profile is adding a row, not a branch.

Policy OIDs live under a placeholder arc, IANA enterprise number 32473,
which RFC 5612 reserves for documentation and examples, so it can collide
with no real policy. A deployment sets its CA's registered arc with
:func:`set_policy_arc` (the Django settings do it). Tried first and refused
by pkilint's DER decoder (pyasn1-fasder): UUID arcs ``2.25.<uuid>`` (an arc
wider than 32 bits) and the X.660 example arc ``2.999`` (it rejects a second
arc >= 40 under joint-iso-itu-t).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_POLICY_ARC = "1.3.6.1.4.1.32473.364"
# Policy OIDs are written relative to the arc: "{arc}.1.1".
POLICY_SIGNATURE = "{arc}.1.1"
POLICY_SEAL = "{arc}.1.2"
_policy_arc = DEFAULT_POLICY_ARC

# ETSI EN 319 411-1 "NCP" (normalized certificate policy) OIDs; the ETSI
# linter recognises the certificate type from them (0.4.0.2042.1.1 = NCP).
ETSI_NCP = "0.4.0.2042.1.1"

KEY_TYPES_ALL = frozenset({"rsa2048", "rsa3072", "ec-p256"})


@dataclass(frozen=True)
class SubjectField:
    """One RDN of the subject: from ``subject[key]``, or a fixed value."""

    key: str  # key in the caller's subject data (or "" for a fixed value)
    oid: x509.ObjectIdentifier
    required: bool = True
    fixed: str | None = None  # a constant value (e.g. C=IR)
    template: str = "{}"  # how the value is written (e.g. "NTRIR-{}")
    pattern: str | None = None  # regex the raw value must match
    max_length: int = 64  # X.520 upper bounds (ub-name etc.)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    subject: tuple[SubjectField, ...]
    key_usage: frozenset[str]
    key_usage_critical: bool = True
    extended_key_usage: tuple[x509.ObjectIdentifier, ...] = ()
    policies: tuple[str, ...] = ()
    key_types: frozenset[str] = KEY_TYPES_ALL
    validity_days: int = 730
    # The pkilint ETSI certificate type (pkilint.etsi.etsi_constants.CertificateType
    # member name) this profile is linted against, in addition to RFC 5280.
    etsi_type: str | None = None
    # The subject data's "email" (a confirmed address: the caller's duty) goes into the
    # subjectAltName as an rfc822Name: the holder's for a signature, the organisation's for a seal.
    san_email: bool = True
    extra: dict = field(default_factory=dict)


NATIONAL_CODE = r"\d{10}"
LEGAL_NATIONAL_ID = r"\d{11}"

PROFILES: dict[str, Profile] = {
    # Personal signature certificate: a person, in a role at a company.
    "signature": Profile(
        name="signature",
        description="گواهی امضای شخصی",
        subject=(
            SubjectField("", NameOID.COUNTRY_NAME, fixed="IR", max_length=2),
            SubjectField("organization", NameOID.ORGANIZATION_NAME),
            SubjectField("title", NameOID.TITLE),
            SubjectField("surname", NameOID.SURNAME),
            SubjectField("given_name", NameOID.GIVEN_NAME),
            # ETSI EN 319 412-1 §5.1.3 semantics: "PNO" (national personal
            # number) + country + "-" + the 10-digit national code.
            SubjectField(
                "national_code",
                NameOID.SERIAL_NUMBER,
                template="PNOIR-{}",
                pattern=NATIONAL_CODE,
            ),
            SubjectField("common_name", NameOID.COMMON_NAME),
        ),
        key_usage=frozenset({"digital_signature", "content_commitment"}),
        extended_key_usage=(ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION),
        policies=(POLICY_SIGNATURE, ETSI_NCP),
        etsi_type="NCP_NATURAL_PERSON_CERTIFICATE",
    ),
    # Organisational seal certificate: the company itself.
    "seal": Profile(
        name="seal",
        description="گواهی مهر سازمانی",
        subject=(
            SubjectField("", NameOID.COUNTRY_NAME, fixed="IR", max_length=2),
            SubjectField("organization", NameOID.ORGANIZATION_NAME),
            # ETSI EN 319 412-1 §5.1.4: "NTR" (national trade register) +
            # country + "-" + the 11-digit legal-entity national ID.
            SubjectField(
                "legal_national_id",
                NameOID.ORGANIZATION_IDENTIFIER,
                template="NTRIR-{}",
                pattern=LEGAL_NATIONAL_ID,
            ),
            SubjectField("common_name", NameOID.COMMON_NAME),
        ),
        key_usage=frozenset({"digital_signature", "content_commitment"}),
        policies=(POLICY_SEAL, ETSI_NCP),
        etsi_type="NCP_LEGAL_PERSON_CERTIFICATE",
    ),
}


class SubjectError(ValueError):
    """The subject data does not fit the profile."""


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise SubjectError(f"unknown profile {name!r} (use one of {', '.join(PROFILES)})") from None


# Keys of the subject data that go into the subjectAltName, not the subject name.
ALT_NAME_KEYS = frozenset({"email"})
# An rfc822Name is an IA5String (ASCII): a local part of the usual characters, a domain of LDH
# labels with a dot (RFC 5280 §4.2.1.6; an IDN domain is given in its A-label form).
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                   r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
EMAIL_MAX_LENGTH = 254  # RFC 5321's path limit less the brackets


def subject_email(profile: Profile, data: dict[str, str]) -> str | None:
    """The e-mail address of the subject data, checked, domain in lower case; None if absent.

    The CA does not know whether it was confirmed: the request flow passes only a confirmed
    address (:mod:`ramis.requests.email_confirmation`)."""
    raw = (data.get("email") or "").strip()
    if not raw:
        return None
    if not profile.san_email:
        raise SubjectError(f"profile {profile.name} carries no e-mail address")
    if len(raw) > EMAIL_MAX_LENGTH or not EMAIL.fullmatch(raw) or ".." in raw or raw.startswith("."):
        raise SubjectError(f"subject field 'email' has an invalid value {raw!r}")
    local, domain = raw.rsplit("@", 1)
    if len(local) > 64 or local.endswith("."):
        raise SubjectError(f"subject field 'email' has an invalid value {raw!r}")
    return f"{local}@{domain.lower()}"


def build_subject(profile: Profile, data: dict[str, str]) -> x509.Name:
    """The subject name, from the caller's data only (never from a CSR)."""
    unknown = set(data) - {f.key for f in profile.subject if f.key} - ALT_NAME_KEYS
    if unknown:
        raise SubjectError(f"unknown subject fields for profile {profile.name}: {', '.join(sorted(unknown))}")
    attrs = []
    for f in profile.subject:
        if f.fixed is not None:
            value = f.fixed
        else:
            raw = (data.get(f.key) or "").strip()
            if not raw:
                if f.required:
                    raise SubjectError(f"subject field {f.key!r} is required for profile {profile.name}")
                continue
            if f.pattern and not re.fullmatch(f.pattern, raw):
                raise SubjectError(f"subject field {f.key!r} has an invalid value {raw!r}")
            value = f.template.format(raw)
        if len(value) > f.max_length:
            raise SubjectError(f"subject field {f.key or f.oid.dotted_string!r} is longer than {f.max_length}")
        attrs.append(x509.NameAttribute(f.oid, value))
    return x509.Name([x509.RelativeDistinguishedName([a]) for a in attrs])


def set_policy_arc(arc: str) -> None:
    """Use ``arc`` (the CA's registered OID arc) for the profiles' policy OIDs."""
    global _policy_arc
    x509.ObjectIdentifier(arc)  # raises on a malformed OID
    _policy_arc = arc


def policy_oids(profile: Profile) -> list[x509.ObjectIdentifier]:
    return [x509.ObjectIdentifier(p.format(arc=_policy_arc)) for p in profile.policies]


def ca_policy_oids() -> list[x509.ObjectIdentifier]:
    """The policies an issuing CA certificate asserts: every policy its profiles issue under, ours
    (under the arc) first, then ETSI's, each once. A validator asked for an explicit policy
    (``openssl verify -explicit_policy -policy 0.4.0.2042.1.1``, pyhanko-certvalidator's initial
    policy set) then finds it on every certificate of the path; anyPolicy is not asserted, so a
    policy the profiles do not name is refused by such a validator."""
    seen: dict[str, x509.ObjectIdentifier] = {}
    for profile in PROFILES.values():
        for oid in policy_oids(profile):
            seen.setdefault(oid.dotted_string, oid)
    ordered = sorted(seen.values(), key=lambda o: o.dotted_string.startswith("0.4.0."))
    return ordered


def key_usage(names: frozenset[str]) -> x509.KeyUsage:
    flags = {
        "digital_signature": False,
        "content_commitment": False,
        "key_encipherment": False,
        "data_encipherment": False,
        "key_agreement": False,
        "key_cert_sign": False,
        "crl_sign": False,
        "encipher_only": False,
        "decipher_only": False,
    }
    for n in names:
        if n not in flags:
            raise ValueError(f"unknown key usage {n!r}")
        flags[n] = True
    return x509.KeyUsage(**flags)
