"""Merkle tree hashing of the audit log, exactly RFC 9162 §2.1 (the RFC 6962 tree) with SHA-256.

A leaf's hash is SHA-256(0x00 || data), an interior node's SHA-256(0x01 || left || right), and
the tree over n leaves splits at the largest power of two smaller than n, so any other RFC 6962
implementation (a monitor, a witness, the `transparency-dev/merkle` Go module) computes the same
roots and checks the same proofs. The functions below take leaf HASHES, never leaf data.

`Frontier` is the compact range of the whole tree: the roots of the perfect subtrees along its
right edge (one per set bit of the size, largest first), enough to append a leaf and to compute
the root in O(log n) without reading any older leaf. It is what the log stores after each append.

Verification follows the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2 step by step; the proof
builders follow the recursive definitions of §2.1.3.1 and §2.1.4.1.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

HASH_SIZE = 32
MAX_SIZE = 2**64 - 1  # a Frontier holds at most 64 subtree roots
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1 over the given leaf hashes."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = _split(n)
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def _check_hash(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")
    return value


@dataclass(frozen=True)
class Frontier:
    """The right edge of a tree of `size` leaves: perfect subtree roots, largest first."""

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise ValueError("frontier size must be an integer")
        if not 0 <= self.size <= MAX_SIZE:
            raise ValueError("frontier size out of range")
        if len(self.hashes) != self.size.bit_count():
            raise ValueError("a frontier has one hash per set bit of its size")
        for value in self.hashes:
            _check_hash(value, "frontier hash")

    def append(self, leaf: bytes) -> Frontier:
        """The frontier after one more leaf."""
        return self.extend((leaf,))

    def extend(self, leaves: Iterable[bytes]) -> Frontier:
        """The frontier after all of `leaves`, in one pass (a sealed batch: one new frontier,
        not one per leaf)."""
        hashes, size = list(self.hashes), self.size
        for leaf in leaves:
            if size == MAX_SIZE:
                raise ValueError("the tree is full")
            hashes.append(_check_hash(leaf, "leaf hash"))
            merged = size
            while merged & 1:  # each trailing one bit: a subtree as large as the new one
                right = hashes.pop()
                hashes[-1] = node_hash(hashes[-1], right)
                merged >>= 1
            size += 1
        return Frontier(size, tuple(hashes))

    def root(self) -> bytes:
        """Equal to root() over every leaf so far: the subtrees folded right to left."""
        if not self.hashes:
            return EMPTY_ROOT
        result = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            result = node_hash(left, result)
        return result

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready value: {"size": n, "hashes": [lowercase hex, ...]}."""
        return {"size": self.size, "hashes": [value.hex() for value in self.hashes]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> Frontier:
        """The frontier stored by to_json (the value itself or its JSON text); ValueError if not."""
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, Mapping) or set(data) != {"size", "hashes"}:
            raise ValueError("a stored frontier has exactly size and hashes")
        size, hashes = data["size"], data["hashes"]
        if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
            raise ValueError("frontier hashes must be a list of hex strings")
        if any(h != h.lower() or len(h) != 2 * HASH_SIZE for h in hashes):
            raise ValueError("frontier hashes must be lowercase hex of 32 bytes")
        return cls(size, tuple(bytes.fromhex(h) for h in hashes))


def _check_sizes(index: int, size: int, count: int) -> None:
    if not 0 <= index < size:
        raise ValueError("index must be below the tree size")
    if size > count:
        raise ValueError("the tree size is larger than the leaves given")


def _path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1."""
    n = len(leaves)
    if n <= 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, leaves[:k]), root(leaves[k:])]
    return [*_path(m - k, leaves[k:]), root(leaves[:k])]


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `size` leaves."""
    _check_sizes(index, size, len(leaves))
    return _path(index, leaves[:size])


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show leaf hash `leaf` at `index` in the tree `root`?"""
    if not 0 <= index < size or len(proof) > 64:
        return False
    fn, sn, result = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(p, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and result == root


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if complete else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """The proof that the first `old_size` leaves are a prefix of the first `new_size`.

    Empty when old_size is 0 or equal to new_size (nothing to prove beyond the roots).
    """
    if not 0 <= old_size <= new_size:
        raise ValueError("old size must be between 0 and the new size")
    if new_size > len(leaves):
        raise ValueError("the new size is larger than the leaves given")
    if old_size in (0, new_size):
        return []
    return _subproof(old_size, leaves[:new_size], True)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree `old_root` of `old_size` a prefix of `new_root`?

    The trivial cases need an empty proof: size 0 is consistent with anything (its root must be
    EMPTY_ROOT), equal sizes need equal roots.
    """
    if not 0 <= old_size <= new_size or len(proof) > 128:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
