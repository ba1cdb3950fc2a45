"""Every SMS template in the code is classified for the SMS limits: a notice that
follows an action the owner or counter staff completed is never limited (else a password
holder could drain the owner's budget, then act unseen: the deletion notice was missed once),
and every other one is listed here on purpose. A new template fails this test until it is
put in one class or the other."""

from __future__ import annotations

import ast
from pathlib import Path

from idp.services.platform import sms_limits

SOURCE = Path(sms_limits.__file__).resolve().parents[1]

# Limited on purpose: anyone who types an ID number or phone (or an organisation, for its
# invitation) can cause them, so they count against the budgets of sms_limits.
LIMITED = {
    "register.code", "register.duplicate", "activate.code", "recover.code",
    "account.change_phone_code", "organisation.invitation",
    # Staff can have these sent again and again: the counter's budget of the number.
    "mandate.confirm_code", "guardian.confirm_code",
}


def _template(call: ast.Call) -> str | None:
    """The literal template of a call; an f-string gives its constant prefix and "*"."""
    for keyword in call.keywords:
        if keyword.arg != "template":
            continue
        value = keyword.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
        if isinstance(value, ast.JoinedStr) and isinstance(value.values[0], ast.Constant):
            return f"{value.values[0].value}*"
        return "<not a literal>"
    return None


def _is_sms_call(call: ast.Call) -> bool:
    name = getattr(call.func, "attr", None) or getattr(call.func, "id", None)
    if name in {"tell_account", "send_sms"}:
        return True
    if name == "enqueue" and call.args:  # enqueue(Channel.SMS, ...)
        return getattr(call.args[0], "attr", None) == "SMS"
    return False


def sms_templates() -> dict[str, str]:
    """Template -> the file that sends it, for every SMS sent outside the notify module."""
    found: dict[str, str] = {}
    for path in SOURCE.rglob("*.py"):
        if path.name == "notify.py":
            continue  # passes its callers' templates on
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _is_sms_call(node):
                template = _template(node)
                if template is not None:
                    found[template] = str(path.relative_to(SOURCE))
    return found


def test_the_scan_finds_the_templates_it_should():
    found = sms_templates()
    assert {"account.deleted", "recover.done", "recover.code", "account.created",
            "counter.organisation.*"} <= set(found)
    assert "<not a literal>" not in found


def test_every_sms_template_is_a_notice_or_limited_on_purpose():
    unclassified = {template: where for template, where in sms_templates().items()
                    if sms_limits.is_limited(template.replace("*", "any"))
                    and template not in LIMITED}
    assert unclassified == {}, "add each to sms_limits.NOTICES or to LIMITED here"
    assert not [template for template in LIMITED if not sms_limits.is_limited(template)]
