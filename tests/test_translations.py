"""Every user-facing string has a Vietnamese translation (Vietnamese is the default UI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def test_vietnamese_catalogue_covers_every_extracted_string(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "N_", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (ROOT / "idp/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale="vi")
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    assert sorted(wanted - translated) == []
