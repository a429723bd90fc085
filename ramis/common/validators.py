"""Iranian identifiers, validated by their checksums (SPEC X6).

Each ``normalize_*`` function turns what a person typed (Persian or Latin digits, spaces,
dashes, country prefixes) into the stored form; each validator raises a ``ValidationError``
with a Persian message.  Model and form fields call both.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from .digits import to_latin_digits

# Area codes of the provinces (the "city prefix" of a landline), without the leading 0.
LANDLINE_PREFIXES = frozenset(
    "11 13 17 21 23 24 25 26 28 31 34 35 38 41 44 45 51 54 56 58 61 66 71 74 76 77 81 83 84 86 87".split()
)
_POSTAL_RE = re.compile(r"^(?!(\d)\1{3})[13-9]{4}[1346-9][013-9]{5}$")


def _digits_only(value: str) -> str:
    return re.sub(r"[\s\-_/.()]", "", to_latin_digits(str(value or "")).strip())


def normalize_national_code(value: str) -> str:
    return _digits_only(value)


def is_valid_national_code(code: str) -> bool:
    if not re.fullmatch(r"\d{10}", code) or len(set(code)) == 1:
        return False
    total = sum(int(code[i]) * (10 - i) for i in range(9))
    remainder = total % 11
    check = remainder if remainder < 2 else 11 - remainder
    return check == int(code[9])


def validate_national_code(value: str) -> None:
    code = normalize_national_code(value)
    if not re.fullmatch(r"\d{10}", code):
        raise ValidationError("کد ملی باید ۱۰ رقم باشد.", code="national_code_length")
    if not is_valid_national_code(code):
        raise ValidationError("کد ملی معتبر نیست.", code="national_code_checksum")


def normalize_legal_national_id(value: str) -> str:
    return _digits_only(value)


def is_valid_legal_national_id(code: str) -> bool:
    if not re.fullmatch(r"\d{11}", code) or len(set(code)) == 1:
        return False
    weights = (29, 27, 23, 19, 17)
    k = int(code[9]) + 2
    total = sum((int(code[i]) + k) * weights[i % 5] for i in range(10))
    remainder = total % 11
    if remainder == 10:
        remainder = 0
    return remainder == int(code[10])


def validate_legal_national_id(value: str) -> None:
    code = normalize_legal_national_id(value)
    if not re.fullmatch(r"\d{11}", code):
        raise ValidationError("شناسه ملی اشخاص حقوقی باید ۱۱ رقم باشد.", code="legal_id_length")
    if not is_valid_legal_national_id(code):
        raise ValidationError("شناسه ملی اشخاص حقوقی معتبر نیست.", code="legal_id_checksum")


def normalize_mobile(value: str) -> str:
    number = _digits_only(value).lstrip("+")
    if number.startswith("0098"):
        number = "0" + number[4:]
    elif number.startswith("98") and len(number) == 12:
        number = "0" + number[2:]
    elif number.startswith("9") and len(number) == 10:
        number = "0" + number
    return number


def validate_mobile(value: str) -> None:
    if not re.fullmatch(r"09\d{9}", normalize_mobile(value)):
        raise ValidationError("شماره همراه باید به شکل ۰۹xxxxxxxxx و ۱۱ رقم باشد.", code="mobile")


def normalize_postal_code(value: str) -> str:
    return _digits_only(value)


def validate_postal_code(value: str) -> None:
    code = normalize_postal_code(value)
    if not re.fullmatch(r"\d{10}", code):
        raise ValidationError("کد پستی باید ۱۰ رقم باشد.", code="postal_code_length")
    if not _POSTAL_RE.match(code):
        raise ValidationError("کد پستی معتبر نیست.", code="postal_code")


def normalize_landline(value: str) -> str:
    number = _digits_only(value).lstrip("+")
    if number.startswith("0098"):
        number = "0" + number[4:]
    elif number.startswith("98") and len(number) == 12:
        number = "0" + number[2:]
    return number


def validate_landline(value: str) -> None:
    number = normalize_landline(value)
    if not re.fullmatch(r"0\d{10}", number):
        raise ValidationError("شماره تلفن ثابت باید با پیش‌شماره شهر و ۱۱ رقم باشد (مثلاً ۰۲۱۸۸۷۷۶۶۵۵).", code="landline_length")
    if number[1:3] not in LANDLINE_PREFIXES:
        raise ValidationError("پیش‌شماره شهر معتبر نیست.", code="landline_prefix")
    if number[3] in "0":
        raise ValidationError("شماره تلفن ثابت معتبر نیست.", code="landline")
