"""The audit log's Merkle tree against RFC 6962's published test data and a naive reference.

The reference below is the textbook recursion written independently of idp.domain.merkle (its own
split, its own hashing); every size 0..70 and every index or size pair is checked against it.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from idp.domain import merkle
from idp.domain.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# transparency-dev/merkle testonly/constants.go (the RFC 6962 test data of certificate-transparency)
DATA = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
LEAVES = [leaf_hash(d) for d in DATA]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# transparency-dev/merkle proof/verify_test.go (leaf indexes there are 1-based)
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


# --- the naive reference ------------------------------------------------------------------------

def ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(bytes([1]) + left + right).digest()


def ref_split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_root(hashes: list[bytes]) -> bytes:
    if not hashes:
        return hashlib.sha256().digest()
    if len(hashes) == 1:
        return hashes[0]
    k = ref_split(len(hashes))
    return ref_node(ref_root(hashes[:k]), ref_root(hashes[k:]))


def ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) <= 1:
        return []
    k = ref_split(len(hashes))
    if m < k:
        return ref_path(m, hashes[:k]) + [ref_root(hashes[k:])]
    return ref_path(m - k, hashes[k:]) + [ref_root(hashes[:k])]


def ref_sides(m: int, n: int) -> list[bool]:
    """For each step of leaf m's path in a tree of n leaves: is the sibling on the left?"""
    if n <= 1:
        return []
    k = ref_split(n)
    if m < k:
        return ref_sides(m, k) + [False]
    return ref_sides(m - k, n - k) + [True]


def ref_subproof(m: int, hashes: list[bytes], b: bool) -> list[bytes]:
    if m == len(hashes):
        return [] if b else [ref_root(hashes)]
    k = ref_split(len(hashes))
    if m <= k:
        return ref_subproof(m, hashes[:k], b) + [ref_root(hashes[k:])]
    return ref_subproof(m - k, hashes[k:], False) + [ref_root(hashes[:k])]


N = 70
MANY = [leaf_hash(i.to_bytes(2, "big")) for i in range(N)]
REF_ROOTS = [ref_root(MANY[:n]) for n in range(N + 1)]


# --- hashing and roots --------------------------------------------------------------------------

def test_hashes_are_rfc6962s() -> None:
    assert EMPTY_ROOT == ROOTS[0]
    assert leaf_hash(b"") == ROOTS[1]
    assert node_hash(LEAVES[0], LEAVES[1]) == ROOTS[2]


def test_roots_match_the_published_data_for_every_size() -> None:
    for n in range(len(LEAVES) + 1):
        assert merkle.root(LEAVES[:n]) == ROOTS[n], n


def test_roots_match_the_reference_for_every_size() -> None:
    for n in range(N + 1):
        assert merkle.root(MANY[:n]) == REF_ROOTS[n], n


# --- the frontier -------------------------------------------------------------------------------

def test_frontier_root_equals_the_tree_root_at_every_size() -> None:
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for n, leaf in enumerate(MANY, start=1):
        frontier = frontier.append(leaf)
        assert frontier.size == n
        assert len(frontier.hashes) == bin(n).count("1") <= 64
        assert frontier.root() == REF_ROOTS[n], n


def test_frontier_is_the_published_compact_range() -> None:
    frontier = Frontier().extend(LEAVES[:7])
    # {nh[2][0], nh[1][2], nh[0][6]} of testonly.CompactTrees()
    assert frontier.hashes == (ROOTS[4], h(
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"), LEAVES[6])
    assert frontier.append(LEAVES[7]).hashes == (ROOTS[8],)


def test_frontier_is_a_value() -> None:
    empty = Frontier()
    one = empty.append(MANY[0])
    assert empty == Frontier() and one != empty
    assert Frontier().extend(MANY[:10]) == Frontier().extend(MANY[:4]).extend(MANY[4:10])
    with pytest.raises(AttributeError):
        one.size = 5  # type: ignore[misc]


def test_frontier_json_round_trip() -> None:
    for n in (0, 1, 5, 64, 70):
        frontier = Frontier().extend(MANY[:n])
        stored = frontier.to_json()
        assert Frontier.from_json(stored) == frontier
        assert Frontier.from_json(json.dumps(stored)) == frontier
        assert all(isinstance(x, str) for x in stored["hashes"])


@pytest.mark.parametrize("stored", [
    {"size": 2, "hashes": []},
    {"size": 1, "hashes": ["00" * 31]},
    {"size": 1, "hashes": ["AB" * 32]},
    {"size": 1, "hashes": ["zz" * 32]},
    {"size": -1, "hashes": []},
    {"size": "1", "hashes": ["00" * 32]},
    {"size": True, "hashes": ["00" * 32]},
    {"size": 0},
    {"size": 0, "hashes": [], "extra": 1},
    {"size": 0, "hashes": "[]"},
    "[]",
])
def test_frontier_refuses_a_malformed_stored_value(stored: object) -> None:
    with pytest.raises(ValueError):
        Frontier.from_json(stored)  # type: ignore[arg-type]


def test_frontier_refuses_a_leaf_that_is_not_a_hash() -> None:
    with pytest.raises(ValueError):
        Frontier().append(b"short")


# --- inclusion ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_published_ones(index: int, size: int,
                                                   proof: list[str]) -> None:
    expected = [h(p) for p in proof]
    assert inclusion_proof(LEAVES, index, size) == expected
    assert verify_inclusion(LEAVES[index], index, size, expected, ROOTS[size])
    for other in (size * 2, size // 2):  # the probes of the Go reference's tests
        assert not verify_inclusion(LEAVES[index], index, other, expected, ROOTS[size])


def test_every_inclusion_proof_matches_the_reference_and_verifies() -> None:
    for size in range(1, N + 1):
        for index in range(size):
            proof = inclusion_proof(MANY, index, size)
            assert proof == ref_path(index, MANY[:size]), (index, size)
            assert verify_inclusion(MANY[index], index, size, proof, REF_ROOTS[size])


def test_inclusion_proofs_refuse_every_wrong_claim() -> None:
    for size in range(1, 34):
        root = REF_ROOTS[size]
        for index in range(size):
            leaf, proof = MANY[index], inclusion_proof(MANY, index, size)
            assert not verify_inclusion(leaf, index, size, proof, REF_ROOTS[size - 1])
            assert not verify_inclusion(MANY[index + 1], index, size, proof, root)
            for other in range(size + 2):
                if other != index:
                    assert not verify_inclusion(leaf, other, size, proof, root), (index, other)
            for other in range(size + 3):
                # Another size is refused unless its path has exactly the same shape: then the
                # proof cannot tell the two apart, and the signed size in the checkpoint must.
                if other != size:
                    same = index < other and ref_sides(index, other) == ref_sides(index, size)
                    assert verify_inclusion(leaf, index, other, proof, root) == same
            if proof:
                assert not verify_inclusion(leaf, index, size, proof[:-1], root)
                assert not verify_inclusion(leaf, index, size, proof[1:], root)
                flipped = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
                assert not verify_inclusion(leaf, index, size, flipped, root)
            assert not verify_inclusion(leaf, index, size, [*proof, root], root)
            assert not verify_inclusion(leaf, index, size, [root, *proof], root)


def test_inclusion_refuses_impossible_positions() -> None:
    assert not verify_inclusion(EMPTY_ROOT, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(MANY[0], -1, 1, [], MANY[0])
    for index, size in ((0, 0), (3, 3), (-1, 2)):
        with pytest.raises(ValueError):
            inclusion_proof(MANY, index, size)
    with pytest.raises(ValueError):
        inclusion_proof(MANY[:4], 0, 5)


# --- consistency --------------------------------------------------------------------------------

@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_published_ones(old: int, new: int,
                                                     proof: list[str]) -> None:
    expected = [h(p) for p in proof]
    assert consistency_proof(LEAVES, old, new) == expected
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)


def test_every_consistency_proof_matches_the_reference_and_verifies() -> None:
    for new in range(N + 1):
        for old in range(new + 1):
            proof = consistency_proof(MANY, old, new)
            expected = [] if old in (0, new) else ref_subproof(old, MANY[:new], True)
            assert proof == expected, (old, new)
            assert verify_consistency(old, new, REF_ROOTS[old], REF_ROOTS[new], proof)


def test_consistency_proofs_refuse_every_wrong_claim() -> None:
    for new in range(1, 34):
        for old in range(1, new):
            r1, r2 = REF_ROOTS[old], REF_ROOTS[new]
            proof = consistency_proof(MANY, old, new)
            assert not verify_consistency(old, new, r2, r1, proof)
            assert not verify_consistency(old, new, REF_ROOTS[old - 1], r2, proof)
            assert not verify_consistency(old, new, r1, REF_ROOTS[new - 1], proof)
            assert not verify_consistency(new, old, r2, r1, proof)
            for other in range(1, new + 3):
                if other != old:
                    assert not verify_consistency(other, new, r1, r2, proof), (old, other)
            for other in range(old, 2 * new + 2):
                # As for inclusion: refused unless the walk has exactly the same shape.
                if other != new:
                    same = ref_sides(old - 1, other) == ref_sides(old - 1, new)
                    assert verify_consistency(old, other, r1, r2, proof) == same, (new, other)
            assert not verify_consistency(old, new, r1, r2, [])
            assert not verify_consistency(old, new, r1, r2, proof[:-1])
            assert not verify_consistency(old, new, r1, r2, proof[1:])
            assert not verify_consistency(old, new, r1, r2, [*proof, r1])
            assert not verify_consistency(old, new, r1, r2, [*proof, r2])
            assert not verify_consistency(old, new, r1, r2, [proof[0], *proof])
            for i in range(len(proof)):
                flipped = list(proof)
                flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
                assert not verify_consistency(old, new, r1, r2, flipped), (old, new, i)


def test_trivial_consistency_needs_an_empty_proof_and_the_right_roots() -> None:
    r5 = REF_ROOTS[5]
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    assert not verify_consistency(0, 5, r5, r5, [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, r5, [r5])
    assert verify_consistency(5, 5, r5, r5, [])
    assert not verify_consistency(5, 5, r5, REF_ROOTS[4], [])
    assert not verify_consistency(5, 5, r5, r5, [r5])
    assert not verify_consistency(6, 5, REF_ROOTS[6], r5, [])
    assert not verify_consistency(-1, 5, EMPTY_ROOT, r5, [])


def test_consistency_proof_refuses_impossible_sizes() -> None:
    for old, new in ((6, 5), (-1, 5)):
        with pytest.raises(ValueError):
            consistency_proof(MANY, old, new)
    with pytest.raises(ValueError):
        consistency_proof(MANY[:4], 2, 5)
