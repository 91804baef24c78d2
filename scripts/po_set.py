"""Set translations in a .po file from a JSON object {msgid: msgstr} (maintainers' helper).

python scripts/po_set.py locales/zh/LC_MESSAGES/messages.po translations.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def main(po_path: str, json_path: str) -> int:
    path = Path(po_path)
    with path.open("rb") as fh:
        catalog = read_po(fh)
    updates = json.loads(Path(json_path).read_text(encoding="utf-8"))
    unknown = [k for k in updates if k not in catalog]
    for msgid, msgstr in updates.items():
        if msgid in catalog:
            catalog[msgid].string = msgstr
            catalog[msgid].flags.discard("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False, no_location=True)
    for msgid in unknown:
        print(f"not in catalog (run make extract first): {msgid!r}", file=sys.stderr)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
