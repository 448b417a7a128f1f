"""Mini App launch data (domain/webapp_auth.py), checked as Telegram specifies: known-good data
passes, and every kind of tampering, staleness and damage is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from domain.webapp_auth import BadLaunchData, data_check_string, secret_key, signed_init_data, validate

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
NOW = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)
USER = {"id": 1003, "first_name": "Lãnh đạo", "last_name": "tỉnh", "language_code": "vi",
        "allows_write_to_pm": True}


def fields(**changes: str) -> dict[str, str]:
    base = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": json.dumps(USER, ensure_ascii=False),
            "auth_date": str(int((NOW - timedelta(minutes=5)).timestamp())),
            "chat_instance": "-4096", "chat_type": "sender",
            "signature": "T8aGLlGIWqc7wWiLgMv5eGgqBgs68CM9TlzgpvFjLoNR4RBOKXjlozKDYKdyitVsUx9W1VugcLyJH"}
    return {**base, **changes}


def test_known_good_data_computed_independently() -> None:
    """The hash computed here by hand from Telegram's recipe, not with the module's helpers."""
    values = fields()
    check = "\n".join(f"{k}={values[k]}" for k in sorted(values))
    key = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    digest = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    init_data = "&".join(f"{k}={quote(v, safe='')}" for k, v in values.items()) + f"&hash={digest}"
    launch = validate(init_data, TOKEN, NOW, DAY)
    assert launch.user_id == 1003 and launch.first_name == "Lãnh đạo" and launch.language_code == "vi"
    assert launch.auth_date == NOW - timedelta(minutes=5)
    assert secret_key(TOKEN) == key and data_check_string({**values, "hash": digest}) == check


def test_field_order_in_the_query_does_not_matter() -> None:
    signed = dict(parse_qsl(signed_init_data(fields(), TOKEN)))
    shuffled = urlencode(dict(reversed(list(signed.items()))))
    assert validate(shuffled, TOKEN, NOW, DAY).user_id == 1003


@pytest.mark.parametrize("field,value", [
    ("user", json.dumps({**USER, "id": 1001})),  # someone else's id
    ("auth_date", str(int(NOW.timestamp()))),  # made fresh again
    ("chat_type", "private"),
    ("signature", "x"),
])
def test_a_changed_field_is_refused(field: str, value: str) -> None:
    signed = dict(parse_qsl(signed_init_data(fields(), TOKEN)))
    signed[field] = value
    with pytest.raises(BadLaunchData) as caught:
        validate(urlencode(signed), TOKEN, NOW, DAY)
    assert caught.value.reason == "bad_hash"


def test_an_added_or_removed_field_is_refused() -> None:
    signed = dict(parse_qsl(signed_init_data(fields(), TOKEN)))
    with pytest.raises(BadLaunchData, match="bad_hash"):
        validate(urlencode({**signed, "start_param": "admin"}), TOKEN, NOW, DAY)
    del signed["query_id"]
    with pytest.raises(BadLaunchData, match="bad_hash"):
        validate(urlencode(signed), TOKEN, NOW, DAY)


def test_another_bots_token_is_refused() -> None:
    with pytest.raises(BadLaunchData, match="bad_hash"):
        validate(signed_init_data(fields(), "987654321:AAOtherBotsTokenOtherBotsToken"), TOKEN, NOW, DAY)


def test_the_hash_in_upper_case_or_cut_is_refused() -> None:
    signed = dict(parse_qsl(signed_init_data(fields(), TOKEN)))
    for bad in (signed["hash"].upper(), signed["hash"][:-1], "", "z" * 64):
        with pytest.raises(BadLaunchData):
            validate(urlencode({**signed, "hash": bad}), TOKEN, NOW, DAY)


def test_stale_and_future_launches_are_refused() -> None:
    old = str(int((NOW - DAY - timedelta(seconds=1)).timestamp()))
    with pytest.raises(BadLaunchData, match="stale"):
        validate(signed_init_data(fields(auth_date=old), TOKEN), TOKEN, NOW, DAY)
    # just inside the allowed age
    inside = str(int((NOW - DAY + timedelta(seconds=1)).timestamp()))
    assert validate(signed_init_data(fields(auth_date=inside), TOKEN), TOKEN, NOW, DAY).user_id == 1003
    # a shorter age setting refuses what a longer one accepts
    with pytest.raises(BadLaunchData, match="stale"):
        validate(signed_init_data(fields(), TOKEN), TOKEN, NOW, timedelta(minutes=1))
    future = str(int((NOW + timedelta(hours=1)).timestamp()))
    with pytest.raises(BadLaunchData, match="future"):
        validate(signed_init_data(fields(auth_date=future), TOKEN), TOKEN, NOW, DAY)


@pytest.mark.parametrize("init_data,reason", [
    ("", "missing"),
    ("hash", "malformed"),
    ("a=1&a=2&hash=" + "0" * 64, "duplicate_field"),
    ("auth_date=1", "no_hash"),
    ("x=" + "y" * 9000, "too_long"),
])
def test_damaged_data_is_refused(init_data: str, reason: str) -> None:
    with pytest.raises(BadLaunchData) as caught:
        validate(init_data, TOKEN, NOW, DAY)
    assert caught.value.reason == reason


@pytest.mark.parametrize("changes,reason", [
    ({"auth_date": "soon"}, "no_auth_date"),
    ({"user": "not json"}, "no_user"),
    ({"user": json.dumps({"id": "1003"})}, "no_user"),
    ({"user": json.dumps([1003])}, "no_user"),
])
def test_signed_but_unusable_data_is_refused(changes: dict[str, str], reason: str) -> None:
    with pytest.raises(BadLaunchData) as caught:
        validate(signed_init_data(fields(**changes), TOKEN), TOKEN, NOW, DAY)
    assert caught.value.reason == reason
