"""Signed checkpoints: the C2SP formats byte for byte, and every kind of tampering refused."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from idp.domain.checkpoint import (
    EM_DASH,
    Checkpoint,
    check_key_name,
    key_id,
    open_note,
    open_text,
    parse_verifier_key,
    sign,
    sign_text,
    time_line,
    verifier_key,
)
from idp.domain.merkle import EMPTY_ROOT

# golang.org/x/mod/sumdb/note's documented example (Ed25519 is deterministic, so signing the same
# text with the same key must give the same note, byte for byte).
GO_SKEY = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # PRIVATE+KEY+PeterNeumann+c74f20a3+...
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = (GO_TEXT + "\n" + EM_DASH + " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUg"
           "YN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
# The example of the C2SP signed-note test vectors (a verifier key and a note it signed).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = ("This is an example message.\n\n" + EM_DASH + " example.com/foo Uw2QOkn8srV1yJGh2VYRlL1"
             "Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")

ORIGIN = "postid.example/audit"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
VKEY = verifier_key(ORIGIN, KEY.public_key())
ROOT = hashlib.sha256(b"root").digest()
WHEN = datetime(2025, 1, 31, 8, 0, 0, tzinfo=UTC)
CHECKPOINT = Checkpoint(ORIGIN, 1042, ROOT, (time_line(WHEN),))


def go_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(GO_SKEY)[1:])


# --- known answers ------------------------------------------------------------------------------

def test_signing_reproduces_the_go_reference_note() -> None:
    key = go_key()
    assert key_id("PeterNeumann", key.public_key()).hex() == "c74f20a3"
    assert verifier_key("PeterNeumann", key.public_key()) == GO_VKEY
    assert sign_text(GO_TEXT, "PeterNeumann", key) == GO_NOTE
    assert open_text(GO_NOTE, GO_VKEY) == GO_TEXT


def test_the_c2sp_example_note_verifies() -> None:
    assert open_text(C2SP_NOTE, C2SP_VKEY) == "This is an example message.\n"
    assert parse_verifier_key(C2SP_VKEY)[:2] == ("example.com/foo", bytes.fromhex("530d903a"))


# --- the body -----------------------------------------------------------------------------------

def test_body_is_the_c2sp_layout() -> None:
    root = base64.b64encode(ROOT).decode()
    assert CHECKPOINT.body() == f"{ORIGIN}\n1042\n{root}\ntime 2025-01-31T08:00:00Z\n"
    assert Checkpoint(ORIGIN, 0, EMPTY_ROOT).body() == (
        f"{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")


def test_body_round_trips() -> None:
    for checkpoint in (CHECKPOINT, Checkpoint(ORIGIN, 0, EMPTY_ROOT),
                       Checkpoint("o", 2**64 - 1, ROOT, ("a", "b c", "time 1999-12-31T23:59:59Z"))):
        assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_time_is_an_extension_line_in_utc_seconds() -> None:
    assert CHECKPOINT.time == WHEN
    hanoi = datetime(2025, 1, 31, 15, 0, 0, 999, tzinfo=timezone(timedelta(hours=7)))
    assert time_line(hanoi) == "time 2025-01-31T08:00:00Z"
    assert Checkpoint(ORIGIN, 1, ROOT).time is None
    with pytest.raises(ValueError):
        time_line(datetime(2025, 1, 31))  # noqa: DTZ001 - a naive time is what is refused


@pytest.mark.parametrize("body", [
    "",
    "o\n1\n",
    "o\n1\n" + base64.b64encode(ROOT).decode(),  # no final newline
    "\n1\n" + base64.b64encode(ROOT).decode() + "\n",  # empty origin
    "o\n01\n" + base64.b64encode(ROOT).decode() + "\n",  # leading zero
    "o\n-1\n" + base64.b64encode(ROOT).decode() + "\n",
    "o\n+1\n" + base64.b64encode(ROOT).decode() + "\n",
    "o\n 1\n" + base64.b64encode(ROOT).decode() + "\n",
    "o\n1.0\n" + base64.b64encode(ROOT).decode() + "\n",
    "o\n١\n" + base64.b64encode(ROOT).decode() + "\n",  # a non-ASCII digit
    "o\n18446744073709551616\n" + base64.b64encode(ROOT).decode() + "\n",  # 2**64
    "o\n1\n" + base64.b64encode(ROOT[:31]).decode() + "\n",  # short root
    "o\n1\n" + base64.b64encode(ROOT + b"x").decode() + "\n",
    "o\n1\n" + base64.b64encode(ROOT).decode().rstrip("=") + "\n",  # unpadded
    "o\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n",  # URL alphabet
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\n\n",  # an empty extension line
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\nx\n\ny\n",
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\ntab\there\n",
    "o\r\n1\n" + base64.b64encode(ROOT).decode() + "\n",
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\ntime 2025-01-31 08:00:00Z\n",
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\ntime 2025-02-30T08:00:00Z\n",
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\ntime 2025-01-31T08:00:00+07:00\n",
    "o\n1\n" + base64.b64encode(ROOT).decode() + "\ntime 2025-01-31T08:00:00Z\ntime 2025-01-31T08:00:01Z\n",
])
def test_parse_refuses_malformed_bodies(body: str) -> None:
    with pytest.raises(ValueError):
        Checkpoint.parse(body)


def test_a_checkpoint_cannot_be_built_malformed() -> None:
    for args in (("", 1, ROOT), ("o\nx", 1, ROOT), ("o", -1, ROOT), ("o", 1, ROOT[:31]),
                 ("o", 2**64, ROOT), ("o", True, ROOT)):
        with pytest.raises(ValueError):
            Checkpoint(*args)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Checkpoint("o", 1, ROOT, ("",))


# --- signing and opening ------------------------------------------------------------------------

def test_sign_and_open_round_trip() -> None:
    note = sign(CHECKPOINT, ORIGIN, KEY)
    assert note.startswith(CHECKPOINT.body() + "\n" + EM_DASH + " " + ORIGIN + " ")
    assert note.endswith("\n") and note.count("\n") == CHECKPOINT.body().count("\n") + 2
    raw = base64.b64decode(note.rsplit(" ", 1)[1])
    assert raw[:4] == key_id(ORIGIN, KEY.public_key()) and len(raw) == 68
    assert open_note(note, VKEY) == CHECKPOINT


def test_verifier_key_layout() -> None:
    name, hex_id, encoded = VKEY.split("+", 2)
    assert "+" in encoded  # this key's base64 holds a '+': only the first two separate fields
    assert name == ORIGIN and hex_id == key_id(ORIGIN, KEY.public_key()).hex()
    public = KEY.public_key().public_bytes_raw()
    assert base64.b64decode(encoded) == b"\x01" + public
    assert hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4].hex() == hex_id


def test_editing_any_line_of_the_body_is_refused() -> None:
    note = sign(CHECKPOINT, ORIGIN, KEY)
    lines = note.split("\n")
    edits = ["postid.example/audix", "1043", base64.b64encode(bytes(32)).decode(),
             "time 2025-01-31T08:00:01Z"]
    for i, edit in enumerate(edits):
        tampered = "\n".join([*lines[:i], edit, *lines[i + 1:]])
        with pytest.raises(ValueError):
            open_note(tampered, VKEY)
    for tampered in (note.replace("time", "time 2025-01-31T08:00:01Z\ntime", 1),
                     note.replace("\ntime 2025-01-31T08:00:00Z", "", 1),
                     note.replace("\n\n", "\nextra\n\n", 1)):
        with pytest.raises(ValueError):
            open_note(tampered, VKEY)


def test_another_key_or_name_is_refused() -> None:
    note = sign(CHECKPOINT, ORIGIN, KEY)
    for verifier in (verifier_key(ORIGIN, OTHER.public_key()),
                     verifier_key("postid.example/other", KEY.public_key())):
        with pytest.raises(ValueError, match="no signature by this key"):
            open_note(note, verifier)
    # signed by another key under our name: its key ID differs, so it is not ours
    with pytest.raises(ValueError, match="no signature by this key"):
        open_note(sign(CHECKPOINT, ORIGIN, OTHER), VKEY)


def test_a_forged_signature_under_our_key_id_refuses_the_note() -> None:
    note = sign(CHECKPOINT, ORIGIN, KEY)
    head, encoded = note[:-1].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1
    with pytest.raises(ValueError, match="does not verify"):
        open_note(head + " " + base64.b64encode(bytes(raw)).decode() + "\n", VKEY)


def test_unknown_signatures_are_ignored() -> None:
    ours = sign(CHECKPOINT, ORIGIN, KEY)
    theirs = sign(CHECKPOINT, "witness.example/w1", OTHER)
    both = ours + theirs.split("\n\n", 1)[1]
    assert open_note(both, VKEY) == CHECKPOINT
    assert open_note(both, verifier_key("witness.example/w1", OTHER.public_key())) == CHECKPOINT


def test_missing_or_malformed_signatures_are_refused() -> None:
    note = sign(CHECKPOINT, ORIGIN, KEY)
    body = CHECKPOINT.body()
    sig_line = note[len(body) + 1:]
    for bad in (body, body + "\n", body + sig_line,  # no blank line
                note[:-1],  # no final newline
                note.replace(EM_DASH, "-"), note.replace(EM_DASH + " ", EM_DASH + "  "),
                note + "\n", note + "junk\n",
                note.replace("=\n", "\n"),  # unpadded signature
                note.replace(ORIGIN + " ", ORIGIN + "+x ")):
        with pytest.raises(ValueError):
            open_note(bad, VKEY)


@pytest.mark.parametrize("verifier", [
    "", "a+b", VKEY + "+x", VKEY.replace("+", "+0", 1),
    VKEY.split("+", 2)[0] + "+" + "0" * 8 + "+" + VKEY.split("+", 2)[2],  # wrong key ID
    VKEY.split("+", 2)[0] + "+" + VKEY.split("+", 2)[1].upper() + "+" + VKEY.split("+", 2)[2],
    VKEY[:-4],  # truncated key
    "has space+00000000+" + VKEY.split("+", 2)[2],
])
def test_malformed_verifier_keys_are_refused(verifier: str) -> None:
    with pytest.raises(ValueError):
        open_note(sign(CHECKPOINT, ORIGIN, KEY), verifier)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\u2003b", "a\nb", "a\tb"])
def test_key_names_follow_the_note_rules(name: str) -> None:
    with pytest.raises(ValueError):
        check_key_name(name)
    with pytest.raises(ValueError):
        sign(CHECKPOINT, name, KEY)


def test_note_text_must_end_with_a_newline() -> None:
    with pytest.raises(ValueError):
        sign_text("no newline", ORIGIN, KEY)
