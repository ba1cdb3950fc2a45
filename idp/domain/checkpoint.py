"""Signed checkpoints of the audit log: a C2SP tlog-checkpoint body in a C2SP signed note (Ed25519).

The body (c2sp.org/tlog-checkpoint) is the log's origin, its tree size in decimal and the base64
of its RFC 9162 root, each on its own line, then optional extension lines:

    postid.example/audit
    1042
    x9G2...=
    time 2025-01-31T08:00:00Z

The note (c2sp.org/signed-note) is the body, a blank line, and one line per signature:
"— <key name> <base64(key ID || Ed25519 signature)>", with an EM DASH (U+2014). The signature is
over the whole body, its final newline included, so the extension lines are signed too: the
checkpoint's time, carried as the extension line `time <RFC 3339 UTC seconds>Z`, cannot be
changed without breaking the signature. The key ID is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || 32-byte public key), and the verifier key, the string a
verifier is configured with, is "<name>+<key ID in 8 hex>+<base64(0x01 || public key)>", as in
golang.org/x/mod/sumdb/note, so the Go tools (and witnesses) can check our checkpoints.

Pure: no I/O. Every refusal is a ValueError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

EM_DASH = "\u2014"
ED25519 = 0x01
MAX_SIGNATURES = 64  # the spec asks verifiers to accept at least 16
MAX_NOTE = 64 * 1024
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_TIME = re.compile(r"time (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z")


def _b64decode(text: str) -> bytes:
    """Strict standard base64: padded, no stray characters, canonical."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("not base64") from None
    if base64.b64encode(raw).decode() != text:
        raise ValueError("not canonical base64")
    return raw


def _check_line(text: str, what: str) -> None:
    if not text:
        raise ValueError(f"{what} is empty")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise ValueError(f"{what} has a control character")


def check_key_name(name: str) -> str:
    """A note key name: non-empty, no Unicode space, no '+', no control character."""
    _check_line(name, "key name")
    if any(ch.isspace() or ch == "+" for ch in name):
        raise ValueError("a key name has no spaces and no '+'")
    return name


def time_line(when: datetime) -> str:
    """The extension line carrying a checkpoint's time (UTC, whole seconds)."""
    if when.tzinfo is None:
        raise ValueError("the checkpoint time must be timezone-aware")
    return "time " + when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise ValueError("tree size must be an integer")
        if not 0 <= self.size < 2**64:
            raise ValueError("tree size out of range")
        if not isinstance(self.root, bytes) or len(self.root) != 32:
            raise ValueError("root hash must be 32 bytes")
        times = 0
        for line in self.extensions:
            _check_line(line, "extension line")
            if line.startswith("time "):
                times += 1
                _parse_time(line)
        if times > 1:
            raise ValueError("more than one time line")

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(),
                 *self.extensions]
        return "".join(line + "\n" for line in lines)

    @property
    def time(self) -> datetime | None:
        """The time of the `time` extension line, if there is one."""
        for line in self.extensions:
            if line.startswith("time "):
                return _parse_time(line)
        return None

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """The checkpoint of a note body, refusing anything body() would not have written."""
        if not isinstance(body, str) or not body.endswith("\n"):
            raise ValueError("a checkpoint body ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise ValueError("a checkpoint body has at least three lines")
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise ValueError("tree size is not a decimal number without leading zeros")
        return cls(origin, int(size), _b64decode(root), tuple(extensions))


def _parse_time(line: str) -> datetime:
    match = _TIME.fullmatch(line)
    if match is None:
        raise ValueError("a time line is 'time YYYY-MM-DDTHH:MM:SSZ'")
    return datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def _public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    data = check_key_name(name).encode() + b"\n" + bytes([ED25519]) + _public_bytes(public_key)
    return hashlib.sha256(data).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    encoded = base64.b64encode(bytes([ED25519]) + _public_bytes(public_key)).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(verifier: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """(name, key ID, public key) of a verifier key string; ValueError if it is not one."""
    parts = verifier.split("+", 2)  # the base64 key may itself hold a "+"
    if len(parts) != 3:
        raise ValueError("a verifier key is name+keyid+key")
    name, hex_id, encoded = parts
    check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise ValueError("a verifier key ID is 8 lowercase hex digits")
    raw = _b64decode(encoded)
    if len(raw) != 33 or raw[0] != ED25519:
        raise ValueError("not an Ed25519 verifier key")
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public_key) != bytes.fromhex(hex_id):
        raise ValueError("the verifier key ID does not match its name and key")
    return name, bytes.fromhex(hex_id), public_key


def sign_text(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note of any note text (ending in a newline) with one Ed25519 signature."""
    _check_text(text)
    signature = private_key.sign(text.encode())
    encoded = base64.b64encode(key_id(name, private_key.public_key()) + signature).decode()
    return f"{text}\n{EM_DASH} {name} {encoded}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise ValueError("note text ends with a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise ValueError("note text has a control character")


def open_text(note: str, verifier: str) -> str:
    """The text of a signed note, once a signature by the verifier key is checked.

    Signatures by other keys are ignored (the spec's rule); a signature that names this key
    (name and key ID) but does not verify refuses the whole note, and so does a note this key
    did not sign.
    """
    name, wanted_id, public_key = parse_verifier_key(verifier)
    if len(note) > MAX_NOTE or not note.endswith("\n"):
        raise ValueError("not a signed note")
    split = note.rfind("\n\n")
    if split < 0:
        raise ValueError("a signed note has a blank line before its signatures")
    text, signatures = note[:split + 1], note[split + 2:-1].split("\n")
    _check_text(text)
    if len(signatures) > MAX_SIGNATURES:
        raise ValueError("too many signatures")
    verified = False
    for line in signatures:
        prefix, _, rest = line.partition(" ")
        signer, _, encoded = rest.partition(" ")
        if prefix != EM_DASH or not encoded:
            raise ValueError("malformed signature line")
        check_key_name(signer)
        raw = _b64decode(encoded)
        if len(raw) < 5:
            raise ValueError("signature too short")
        if signer != name or raw[:4] != wanted_id:
            continue
        try:
            public_key.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise ValueError("the signature by this key does not verify") from None
        verified = True
    if not verified:
        raise ValueError("the note has no signature by this key")
    return text


def sign(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note of a checkpoint (the log's key name should be its origin)."""
    return sign_text(checkpoint.body(), name, private_key)


def open_note(note: str, verifier: str) -> Checkpoint:
    """The checkpoint of a signed note, verified by the verifier key; ValueError otherwise."""
    return Checkpoint.parse(open_text(note, verifier))
