"""The layers of docs/architecture.md §2, enforced: every `import` under idp/ (at module level
and inside functions) is read from the source, and the test fails on an import cycle between
modules and on an import that goes up a layer or across to a service package that is not below.

Two kinds of import are read differently, on purpose:
- a package's `__init__` importing its own route modules at its end (how a blueprint collects its
  views) is how the package is assembled, not a dependency, so it is left out of the cycles;
- an import under `if TYPE_CHECKING:` never runs, so it cannot make a cycle (SQLAlchemy's two-sided
  relationships need one); it still counts for the direction of the layers.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lower numbers are lower layers; a module may import its own layer and the ones below.
# domain and models are stricter: they may import only themselves and the layers below them
# (models: domain), nothing of the foundation (settings, extensions, errors, i18n).
LAYERS = {
    "domain": 0, "models": 1,
    "settings": 2, "extensions": 2, "errors": 2, "i18n": 2, "logs": 2,
    "services": 3, "oidc": 4, "web": 5, "demo_portal": 5,
    "": 6,  # the application factory (idp/__init__.py) assembles the layers above
    "cli": 7, "__main__": 7,  # the commands build the application
}

# The service packages (docs/architecture.md §3) and the ones each may import. The modules at
# the top of idp/services (account_data, demo, retention) may import any of them.
SERVICE_PACKAGES = {
    "platform": set(),
    "standing": {"platform"},
    "portals": {"platform", "standing"},
    "identity": {"platform", "standing", "portals"},
    "business": {"platform", "standing", "portals", "identity"},
    "counter": {"platform", "standing", "portals", "identity", "business"},
    "staff": {"platform"},
}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    runs: bool  # False under `if TYPE_CHECKING:`
    local: bool  # inside a function (imported when it is called)
    assembles: bool  # a package __init__ importing one of its own submodules


def modules(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    base = package_dir.parent
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def _function_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in node.body:
                inside.update(id(n) for n in ast.walk(inner))
    return inside


def _targets(name: str, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        wanted = [alias.name for alias in node.names]
    else:
        if node.level:
            here = name.split(".") if known[name].name == "__init__.py" else name.split(".")[:-1]
            base = ".".join(here[: len(here) - node.level + 1])
            module = f"{base}.{node.module}" if node.module else base
        else:
            module = node.module or ""
        # `from package import module` names the submodule; `from module import name` the module
        wanted = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                  for alias in node.names]
    resolved = []
    for target in wanted:
        while target not in known and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in known:
            resolved.append(target)
    return resolved


def imports(package_dir: Path) -> list[Import]:
    known = modules(package_dir)
    found = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skipped = _type_checking_nodes(tree)
        in_functions = _function_nodes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(name, node, known):
                if target == name:
                    continue
                assembles = path.name == "__init__.py" and target.startswith(name + ".")
                found.append(Import(name, target, node.lineno, id(node) not in skipped,
                                    id(node) in in_functions, assembles))
    return found


def cycles(found: list[Import]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for edge in found:
        graph.setdefault(edge.source, set())
        if edge.runs and not edge.assembles:
            graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _service_package(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 3 and parts[1] == "services":  # idp.services.<package>.<module>
        return parts[2]
    return None


def wrong_way(found: list[Import]) -> list[str]:
    """Imports that go up a layer, or across to a service package that is not below."""
    problems = []
    for edge in found:
        if edge.assembles:
            continue
        source, target = _layer(edge.source), _layer(edge.target)
        where = f"{edge.source}:{edge.line} imports {edge.target}"
        if source in ("domain", "models"):
            if LAYERS[target] > LAYERS[source]:
                problems.append(where)
        elif LAYERS[target] > LAYERS[source]:
            problems.append(where)
        mine, theirs = _service_package(edge.source), _service_package(edge.target)
        if mine and theirs and mine != theirs and theirs not in SERVICE_PACKAGES[mine]:
            problems.append(where)
        if mine and _layer(edge.target) == "services" and theirs is None \
                and edge.target != "idp.services":
            problems.append(where + " (a module on top of the service packages)")
    return problems


# --- the application -------------------------------------------------------------------------

APP = imports(ROOT / "idp")


def test_every_module_is_in_a_known_layer():
    assert {_layer(edge.source) for edge in APP} <= set(LAYERS)
    packages = {_service_package(edge.source) for edge in APP} - {None}
    assert packages == set(SERVICE_PACKAGES)


def test_no_import_cycle_between_modules():
    assert cycles(APP) == []


def test_no_import_goes_up_a_layer_or_across_to_a_package_not_below():
    assert wrong_way(APP) == []


def test_function_local_imports_are_read():
    """The checker would be blind to the hidden cycles if it read only the module level."""
    local = [edge for edge in APP if edge.local]
    assert any(edge.source == "idp" and _layer(edge.target) == "web" for edge in local)


# --- the checker itself, on small trees --------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "idp" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "idp"


LAYERED = {
    "__init__.py": "",
    "domain/__init__.py": "",
    "domain/rules.py": "X = 1\n",
    "models/__init__.py": "from idp.models import account\n",
    "models/account.py": "from typing import TYPE_CHECKING\nfrom idp.domain import rules\n"
                         "if TYPE_CHECKING:\n    from idp.models.credentials import Password\n",
    "models/credentials.py": "from idp.models.account import Account\n",
    "services/__init__.py": "",
    "services/platform/__init__.py": "",
    "services/platform/audit.py": "from idp.models import account\n",
    "services/identity/__init__.py": "",
    "services/identity/sessions.py": "from idp.services.platform import audit\n",
    "services/identity/logout.py": "from idp.services.identity import sessions\n",
    "web/__init__.py": "",
    "web/citizen/__init__.py": "bp = object()\nfrom idp.web.citizen import views\n",
    "web/citizen/views.py": "from idp.web.citizen import bp\nfrom idp.services.identity import logout\n",
}


def test_checker_accepts_a_layered_tree(tmp_path):
    found = imports(_tree(tmp_path, LAYERED))
    assert cycles(found) == []
    assert wrong_way(found) == []


def test_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    files = dict(LAYERED)
    files["services/identity/sessions.py"] += (
        "def sign_out():\n    from idp.services.identity import logout\n    return logout\n")
    assert cycles(imports(_tree(tmp_path, files))) == [
        ["idp.services.identity.logout", "idp.services.identity.sessions"]]


def test_checker_finds_a_cycle_through_relative_imports(tmp_path):
    files = dict(LAYERED)
    files["web/citizen/contact.py"] = "from .views import bp\n"
    files["web/citizen/views.py"] += "from . import contact\n"
    assert cycles(imports(_tree(tmp_path, files))) == [
        ["idp.web.citizen.contact", "idp.web.citizen.views"]]


def test_checker_finds_upward_and_sideways_imports(tmp_path):
    files = dict(LAYERED)
    files["domain/rules.py"] = "def f():\n    from idp.models import account\n"
    files["services/platform/audit.py"] = "from idp.web.citizen import views\n"
    files["services/platform/qr.py"] = "from idp.services.identity import sessions\n"
    problems = wrong_way(imports(_tree(tmp_path, files)))
    assert problems == [
        "idp.domain.rules:2 imports idp.models.account",
        "idp.services.platform.audit:1 imports idp.web.citizen.views",
        "idp.services.platform.qr:1 imports idp.services.identity.sessions",
    ]
