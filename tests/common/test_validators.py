import pytest
from django.core.exceptions import ValidationError

from ramis.common import validators as v


@pytest.mark.parametrize("code", ["0499370899", "۰۴۹۹۳۷۰۸۹۹", "0013542419", "049-937-0899"])
def test_valid_national_codes(code):
    v.validate_national_code(code)  # raises on an invalid code
    assert v.is_valid_national_code(v.normalize_national_code(code))


@pytest.mark.parametrize(
    ("code", "message"),
    [("0684159415", "معتبر نیست"), ("1111111111", "معتبر نیست"), ("04993708", "۱۰ رقم"), ("abcdefghij", "۱۰ رقم")],
)
def test_invalid_national_codes(code, message):
    with pytest.raises(ValidationError) as exc:
        v.validate_national_code(code)
    assert message in exc.value.messages[0]


def test_legal_national_id():
    v.validate_legal_national_id("10380284790")
    v.validate_legal_national_id("۱۰۳۸۰۲۸۴۷۹۰")
    with pytest.raises(ValidationError, match="معتبر نیست"):
        v.validate_legal_national_id("10380284792")
    with pytest.raises(ValidationError, match="۱۱ رقم"):
        v.validate_legal_national_id("1038028479")


@pytest.mark.parametrize("raw", ["09121234567", "+989121234567", "00989121234567", "۰۹۱۲۱۲۳۴۵۶۷", "9121234567",
                                 "0912 123 4567"])
def test_mobile_normalised_and_valid(raw):
    assert v.normalize_mobile(raw) == "09121234567"
    v.validate_mobile(raw)


@pytest.mark.parametrize("raw", ["0912123456", "08121234567", "+44 7700 900123", "phone"])
def test_invalid_mobiles(raw):
    with pytest.raises(ValidationError, match="۰۹"):
        v.validate_mobile(raw)


def test_postal_code():
    v.validate_postal_code("1193653471")
    v.validate_postal_code("۱۱۹۳۶۵۳۴۷۱")
    with pytest.raises(ValidationError, match="۱۰ رقم"):
        v.validate_postal_code("119365347")
    with pytest.raises(ValidationError, match="معتبر نیست"):
        v.validate_postal_code("0193653471")  # postal codes never start with 0
    with pytest.raises(ValidationError, match="معتبر نیست"):
        v.validate_postal_code("1111153471")  # four equal leading digits


def test_landline():
    v.validate_landline("02188776655")
    v.validate_landline("+98 21 8877 6655")
    v.validate_landline("۰۳۱۳۲۲۲۱۱۰۰")
    with pytest.raises(ValidationError) as exc:
        v.validate_landline("09988776655")
    assert exc.value.messages == ["پیش‌شماره شهر معتبر نیست."]
    with pytest.raises(ValidationError, match="۱۱ رقم"):
        v.validate_landline("8877665")
