"""The error summary at the top of every page after a failed submit (GOV.UK Design System's
"Error summary" pattern, WCAG 2.2 SC 3.3.1 and 2.4.3): one list of what went wrong, each item
linking to its field, announced (role="alert") and focused on load (static/js/error-summary.js;
the CSP allows no inline script).

base.html renders it once for every page: it collects the forms the view passed to the
template, so a page needs no code of its own. Form-level messages (a wrong password, a
throttled attempt) are listed too, without a link; `form_errors` in _form.html then stays
silent for a form the summary already shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import Flask, g
from jinja2 import pass_context
from jinja2.runtime import Context
from wtforms import Form
from wtforms.fields import Field

# Inputs a person cannot reach: their message is listed without a link.
UNLINKED_TYPES = frozenset({"CSRFTokenField", "HiddenField"})
# Groups of inputs: the link goes to the first one (WTForms numbers them id-0, id-1, ...).
GROUP_TYPES = frozenset({"RadioField", "MultiCheckboxField"})


@dataclass(frozen=True)
class SummaryItem:
    message: str
    target: str | None  # the id of the input to focus, or None


def _first_message(errors: Iterable[object] | None) -> str | None:
    """A field's first message; nested fields (FormField) keep theirs in a dict."""
    if isinstance(errors, dict):
        errors = [m for value in errors.values() for m in (value if isinstance(value, list)
                                                           else [value])]
    for message in errors or ():
        text = str(message)  # lazy_gettext messages become text in the page's language
        if text:
            return text
    return None


def _target(field: Field) -> str | None:
    if field.type in UNLINKED_TYPES:
        return None
    return f"{field.id}-0" if field.type in GROUP_TYPES else field.id


def in_page_order(form: Form) -> list[Field]:
    """The form's fields in the order its page shows them: WTForms orders them by creation, so
    a subclass's fields come after its base's; a form whose page differs names its fields in
    `page_order` (the ones not named keep their order, after those named)."""
    order = {name: i for i, name in enumerate(getattr(form, "page_order", ()))}
    return sorted(form, key=lambda field: order.get(field.name, len(order)))


def items_of(form: Form) -> Iterator[SummaryItem]:
    for message in form.form_errors:
        yield SummaryItem(str(message), None)
    for field in in_page_order(form):
        message = _first_message(field.errors)
        if message is not None:
            yield SummaryItem(str(message), _target(field))


@pass_context
def error_summary(context: Context) -> list[SummaryItem]:
    """Every error of every form in the page's context, in the order the view passed them."""
    seen: set[int] = set()
    items: list[SummaryItem] = []
    for value in context.get_all().values():
        if isinstance(value, Form) and id(value) not in seen:
            seen.add(id(value))
            found = list(items_of(value))
            if found:
                g.setdefault("summarised_forms", set()).add(id(value))
                items.extend(found)
    return items


def summarised(form: Form) -> bool:
    """True if the page's error summary already lists this form's errors."""
    return id(form) in g.get("summarised_forms", set())


def init_app(app: Flask) -> None:
    app.jinja_env.globals["error_summary"] = error_summary
    app.jinja_env.globals["summarised"] = summarised
