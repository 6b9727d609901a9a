"""Phone numbers as handles, in E.164 (+14155550100) via `phonenumbers`."""

from __future__ import annotations

import locale
import os

import phonenumbers


def default_region() -> str | None:
    """The region assumed for numbers written without a country code.

    `KITH_PHONE_REGION` (an ISO 3166 code such as US or DE) wins; else the country of the
    process's locale (en_GB -> GB); else None, and only numbers written with + parse.
    """
    region = os.environ.get("KITH_PHONE_REGION")
    if region:
        return region.upper()
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        loc = os.environ.get(name) or ""
        if "_" in loc:
            country = loc.split("_", 1)[1][:2].upper()
            if country.isalpha() and len(country) == 2:
                return country
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    if "_" in loc:
        return loc.split("_", 1)[1][:2].upper()
    return None


def normalize_phone(text: str | None, region: str | None) -> str | None:
    """E.164 form of a number, or None when it is not a valid number for any region we can tell."""
    if not text:
        return None
    value = text.strip()
    if value.lower().startswith("tel:"):
        value = value[4:]
    # DTMF pauses and extensions after the number ("p123", "w", ";ext=") are not part of it.
    for stop in ("p", "P", "w", "W", ";", ","):
        value = value.split(stop, 1)[0]
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
