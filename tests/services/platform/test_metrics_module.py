"""Where prometheus_client may be used: one module records (idp.services.platform.metrics), the
web layer exposes, `idp serve` sets up the multi-process directory. And it is imported only once
a metric is used: `idp serve`'s master imports the command line (and with it the services)
before it sets PROMETHEUS_MULTIPROC_DIR, and prometheus_client picks its mode when imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

IDP = Path(__file__).resolve().parents[3] / "idp"
ALLOWED = {"services/platform/metrics.py", "web/metrics.py", "cli/serve_metrics.py"}


def imports_prometheus(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(name.split(".")[0] == "prometheus_client" for name in names):
            return True
    return False


def test_only_the_metrics_modules_import_prometheus_client():
    found = {str(path.relative_to(IDP)) for path in IDP.rglob("*.py") if imports_prometheus(path)}
    assert found == ALLOWED


def test_the_command_line_does_not_import_prometheus_client():
    check = "import sys, idp.cli; print('prometheus_client' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "False"
