"""Persian/Arabic-Indic digits in input, Persian digits in output (X1)."""

_FA = "۰۱۲۳۴۵۶۷۸۹"
_AR = "٠١٢٣٤٥٦٧٨٩"
_TO_LATIN = str.maketrans(_FA + _AR, "0123456789" * 2)
_TO_PERSIAN = str.maketrans("0123456789", _FA)


def to_latin_digits(value: str) -> str:
    return value.translate(_TO_LATIN)


def to_persian_digits(value: object) -> str:
    return str(value).translate(_TO_PERSIAN)


def persian_number(value: int | float, places: int = 1) -> str:
    """A number inside a Persian sentence: Persian digits, «٫» as the decimal point, no trailing
    zeros (``5.0`` → ``۵``, ``2.5`` → ``۲٫۵``)."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    return to_persian_digits(text).replace(".", "٫")
