"""The audit log is append-only (docs/architecture.md §11): no code path in idp/ updates or deletes audit
events, leaves or checkpoints, nothing writes the legacy chain head, and erasing an account keeps
its events."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, AuditTag
from idp.services import account_data
from idp.services.platform import audit, audit_seal
from idp.services.platform.audit_verify import verify_log
from tests.factories import PASSWORD, active_citizen

SOURCE = Path(__file__).resolve().parent.parent / "idp"
APPENDER = SOURCE / "services" / "platform" / "audit.py"  # appends events

# Text patterns: SQLAlchemy statements, ORM bulk operations and raw SQL.
MUTATIONS = [re.compile(pattern, re.IGNORECASE | re.DOTALL) for pattern in (
    r"\b(update|delete)\(\s*Audit(Event|Leaf|Checkpoint)\b",
    r"\bAudit(Event|Leaf|Checkpoint)\.__table__\s*\.\s*(update|delete)\b",
    r"\b(EVENTS|LEAVES|CHECKPOINTS)\s*\.\s*(update|delete)\b",
    r"\.query\(\s*Audit(Event|Leaf|Checkpoint)\b[^\n]*\.(update|delete)\(",
    r"\b(update|delete\s+from)\s+[\"`]?audit_(event|leaf|checkpoint)\b",
    r"\btruncate\s+(table\s+)?[\"`]?audit_(event|leaf|checkpoint|chain_head)\b",
    r"\bdrop\s+table\s+(if\s+exists\s+)?[\"`]?audit_(event|leaf|checkpoint|chain_head)\b",
    r"\btable\(\s*[\"']audit_(event|leaf|checkpoint)[\"']",
)]
HEAD_MUTATIONS = [re.compile(pattern, re.IGNORECASE) for pattern in (
    r"\b(update|delete|insert)\(\s*AuditChainHead\b",
    r"\b(update|delete\s+from|insert\s+into)\s+[\"`]?audit_chain_head\b",
)]


def offences(text: str, patterns: list[re.Pattern[str]]) -> list[str]:
    return [match.group(0) for pattern in patterns for match in pattern.finditer(text)]


def session_deletes_of_events(tree: ast.AST) -> list[int]:
    """`session.delete(x)` where x was assigned (or looped over) from an expression naming
    AuditEvent in the same function."""
    lines = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        events = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.For) and "AuditEvent" in ast.unparse(
                    node.iter if isinstance(node, ast.For) else node.value or node):
                targets = [node.target] if not isinstance(node, ast.Assign) else node.targets
                events |= {name.id for target in targets for name in ast.walk(target)
                           if isinstance(name, ast.Name)}
        for call in ast.walk(function):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "delete" and isinstance(call.func.value, ast.Attribute)
                    and call.func.value.attr == "session" and call.args
                    and isinstance(call.args[0], ast.Name) and call.args[0].id in events):
                lines.append(call.lineno)
    return lines


def python_sources() -> list[Path]:
    files = sorted(SOURCE.rglob("*.py"))
    assert len(files) > 50 and APPENDER in files  # the scan really sees the package
    return files


def test_no_code_in_idp_updates_or_deletes_audit_events_leaves_or_checkpoints():
    found = {}
    for path in python_sources():
        text = path.read_text(encoding="utf-8")
        hits = offences(text, MUTATIONS) + [f"session.delete at line {n}"
                                            for n in session_deletes_of_events(ast.parse(text))]
        hits += offences(text, HEAD_MUTATIONS)  # the legacy chain head is evidence now
        if hits:
            found[str(path.relative_to(SOURCE.parent))] = hits
    assert found == {}


@pytest.mark.parametrize("snippet", [
    "db.session.execute(update(AuditEvent).where(AuditEvent.id == 1).values(tag='x'))",
    "db.session.execute(delete(AuditEvent))",
    "db.session.execute(\n    delete(\n        AuditEvent\n    ).where(AuditEvent.account_id == 3))",
    "db.session.execute(AuditEvent.__table__.delete())",
    "AuditEvent.__table__ .update().values(data={})",
    "db.session.query(AuditEvent).filter_by(account_id=1).delete()",
    "db.session.execute(text('DELETE FROM audit_event WHERE id = 1'))",
    "op.execute('update \"audit_event\" set data = null')",
    "db.session.execute(text('TRUNCATE audit_event'))",
    "sa.table('audit_event', sa.column('id'))",
    "db.session.execute(update(AuditLeaf).values(leaf_hash='00'))",
    "db.session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.tree_size > 8))",
    "db.session.execute(LEAVES.delete())",
    "CHECKPOINTS.update().values(note='')",
    "db.session.execute(text('DELETE FROM audit_leaf'))",
    "db.session.execute(text('update audit_checkpoint set root_hash = :r'))",
    "db.session.execute(text('TRUNCATE TABLE audit_checkpoint'))",
])
def test_the_scan_catches_each_kind_of_mutation(snippet):
    assert offences(snippet, MUTATIONS)


def test_the_scan_catches_a_head_write_and_an_orm_delete():
    assert offences("session.execute(update(AuditChainHead).values(seq=0))", HEAD_MUTATIONS)
    tree = ast.parse("def purge(i):\n    e = db.session.get(AuditEvent, i)\n    db.session.delete(e)\n"
                     "    for old in db.session.scalars(select(AuditEvent)):\n"
                     "        db.session.delete(old)\n    db.session.delete(other)\n")
    assert session_deletes_of_events(tree) == [3, 5]
    assert offences("select(AuditEvent).where(AuditEvent.seq > 3)", MUTATIONS) == []


def test_deleting_an_account_keeps_its_audit_events_and_their_leaves(app):
    with app.app_context():
        account = active_citizen()
        for _ in range(3):
            audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id)
            db.session.commit()
        audit_seal.seal_all()
        before = db.session.execute(select(AuditEvent.id, AuditEvent.tag)
                                    .where(AuditEvent.account_id == account.id)
                                    .order_by(AuditEvent.id)).all()
        assert len(before) == 4  # account.create + 3 sign-ins
        account_data.delete_account(account, PASSWORD, session_id=None)
        audit_seal.seal_all()
        after = db.session.execute(select(AuditEvent.id, AuditEvent.tag)
                                   .where(AuditEvent.account_id == account.id)
                                   .order_by(AuditEvent.id)).all()
        assert after[:-1] == before and after[-1].tag == AuditTag.ACCOUNT_DELETE.value
        report = verify_log()
        assert report.ok and report.events_checked == 5 and report.unsealed == 0
