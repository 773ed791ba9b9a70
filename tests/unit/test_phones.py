"""Phone numbers in both forms (docs/decisions.md D79): international
always; national with the deployment's default region."""

from __future__ import annotations

import pytest

from config import ConfigError, load_settings
from pipeline.errors import InvalidPhoneNumber
from pipeline.phones import looks_like_phone, normalize_phone

# (region, national form, international form, E.164)
NUMBERS = [
    ("TH", "081 234 5678", "+66 81 234 5678", "+66812345678"),
    ("SG", "9123 4567", "+65 9123 4567", "+6591234567"),
    ("ID", "0812-3456-7890", "+62 812-3456-7890", "+6281234567890"),
    ("MY", "012-345 6789", "+60 12-345 6789", "+60123456789"),
    ("PH", "0917 123 4567", "+63 917 123 4567", "+639171234567"),
    ("VN", "091 234 56 78", "+84 91 234 56 78", "+84912345678"),
]


@pytest.mark.parametrize("region, national, international, e164", NUMBERS)
def test_both_forms_give_the_same_number(region, national, international, e164):
    assert normalize_phone(national, region) == e164
    assert normalize_phone(national.replace(" ", "").replace("-", ""), region) == e164
    assert normalize_phone(international, region) == e164
    assert normalize_phone(international) == e164  # the international form needs no region
    assert looks_like_phone(national, region) and looks_like_phone(international)


@pytest.mark.parametrize("region, national, international, e164", NUMBERS)
def test_a_national_number_without_a_default_region_is_refused(region, national, international, e164):
    with pytest.raises(InvalidPhoneNumber, match="international form"):
        normalize_phone(national)
    assert not looks_like_phone(national)


def test_another_regions_national_number_is_not_valid_here():
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone("9123 4567", "TH")  # a Singapore mobile, read as Thai


@pytest.mark.parametrize("raw", ["", "   ", "0812", "hello", "+1", None, 812345678])
def test_what_is_not_a_number_is_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(raw, "TH")


def test_usernames_do_not_look_like_numbers():
    assert not looks_like_phone("acme", "TH") and not looks_like_phone("shop-01", "TH")


def test_the_setting_takes_a_known_region_code():
    assert load_settings({"DEFAULT_PHONE_REGION": "th"}).default_phone_region == "TH"
    assert load_settings({}).default_phone_region is None
    with pytest.raises(ConfigError, match="DEFAULT_PHONE_REGION"):
        load_settings({"DEFAULT_PHONE_REGION": "Thailand"})
