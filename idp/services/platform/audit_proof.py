"""Proofs from the sealed audit log for witnesses and auditors (docs/audit.md): the latest
signed checkpoint, an event's inclusion proof and the consistency proof between two checkpoints.

Proofs are built from the stored leaf hashes (32 bytes a leaf, read once); the verifier needs
only idp.domain.merkle, idp.domain.checkpoint and the log's verifier key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from idp.domain import merkle
from idp.extensions import db
from idp.models.audit import AuditCheckpoint, AuditLeaf


class NoSuchCheckpoint(LookupError):
    pass


def latest() -> AuditCheckpoint | None:
    try:
        return db.session.scalars(select(AuditCheckpoint)
                                  .order_by(AuditCheckpoint.tree_size.desc()).limit(1)).first()
    finally:
        db.session.rollback()  # read-only


def inclusion(seq: int) -> dict[str, Any]:
    """The proof that the event at `seq` (leaf index seq - 1) is in the latest checkpoint."""
    try:
        checkpoint = _checkpoint(None)
        index = seq - 1
        if not 0 <= index < checkpoint.tree_size:
            raise NoSuchCheckpoint(f"seq {seq} is not in the latest checkpoint "
                                   f"(tree size {checkpoint.tree_size})")
        leaves = _leaf_hashes(checkpoint.tree_size)
        event_id = db.session.scalar(select(AuditLeaf.event_id).where(AuditLeaf.leaf_index == index))
        return {"seq": seq, "leaf_index": index, "event_id": event_id,
                "tree_size": checkpoint.tree_size, "leaf_hash": leaves[index].hex(),
                "proof": [h.hex() for h in merkle.inclusion_proof(leaves, index,
                                                                  checkpoint.tree_size)],
                "checkpoint": checkpoint.note}
    finally:
        db.session.rollback()


def consistency(old_size: int, new_size: int) -> dict[str, Any]:
    """The proof that the checkpoint of `old_size` is a prefix of the checkpoint of `new_size`."""
    try:
        old, new = _checkpoint(old_size), _checkpoint(new_size)
        if old.tree_size > new.tree_size:
            raise NoSuchCheckpoint("the old size must not exceed the new size")
        leaves = _leaf_hashes(new.tree_size)
        proof = merkle.consistency_proof(leaves, old.tree_size, new.tree_size)
        return {"old_size": old.tree_size, "new_size": new.tree_size,
                "proof": [h.hex() for h in proof], "old_checkpoint": old.note,
                "new_checkpoint": new.note}
    finally:
        db.session.rollback()


def _checkpoint(size: int | None) -> AuditCheckpoint:
    query = select(AuditCheckpoint)
    query = (query.order_by(AuditCheckpoint.tree_size.desc()).limit(1) if size is None
             else query.where(AuditCheckpoint.tree_size == size))
    found = db.session.scalars(query).first()
    if found is None:
        raise NoSuchCheckpoint("no checkpoint yet" if size is None
                               else f"no checkpoint of tree size {size}")
    return found


def _leaf_hashes(size: int) -> list[bytes]:
    rows = db.session.scalars(select(AuditLeaf.leaf_hash).where(AuditLeaf.leaf_index < size)
                              .order_by(AuditLeaf.leaf_index))
    return [bytes.fromhex(value) for value in rows]
