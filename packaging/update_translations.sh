#!/usr/bin/env bash
# Re-extract the GUI's strings into resources/i18n/vramplan_<lang>.ts and compile the .qm files.
#
#   packaging/update_translations.sh            # every vramplan_*.ts (zh_CN when none exists yet)
#   packaging/update_translations.sh zh_CN ja   # these languages (a new one starts untranslated)
#
# Then translate the entries marked unfinished (pyside6-linguist resources/i18n/vramplan_zh_CN.ts),
# run this again, and commit both the .ts and the .qm.  tests/gui/test_i18n.py fails while any
# entry is unfinished.
#
# Some modules translate through a module-level helper (def tr(text): return
# QCoreApplication.translate("RoleActions", text)); lupdate files those calls under an empty
# context, which never matches at run time.  The fix-up step below moves each such message to the
# context its file's helper passes, keeping any translation it had there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_BIN="${VENV_BIN:-.venv/bin}"
I18N=resources/i18n
mkdir -p "$I18N"

langs=("$@")
if [ ${#langs[@]} -eq 0 ]; then
    for ts in "$I18N"/vramplan_*.ts; do
        [ -e "$ts" ] && langs+=("$(basename "$ts" .ts | sed 's/^vramplan_//')")
    done
    [ ${#langs[@]} -eq 0 ] && langs=(zh_CN)
fi

mapfile -t sources < <(find gui -name '*.py' -not -path '*/__pycache__/*' | sort)

for lang in "${langs[@]}"; do
    ts="$I18N/vramplan_$lang.ts"
    "$VENV_BIN/pyside6-lupdate" -locations absolute -target-language "$lang" "${sources[@]}" -ts "$ts"
    "$VENV_BIN/python" - "$ts" <<'PY'
"""Move messages lupdate put in the empty context to the context of their file's tr() helper."""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ts_path = Path(sys.argv[1])
HELPER = re.compile(r'def tr\([^\n]*\n\s+return QCoreApplication\.translate\(\s*"([^"]+)"')
tree = ET.parse(ts_path)
root = tree.getroot()
contexts = {c.findtext("name") or "": c for c in root.findall("context")}
anonymous = contexts.pop("", None)


def file_context(filename: str) -> str:
    found = HELPER.search((ts_path.parent / filename).read_text(encoding="utf-8"))
    if not found:
        raise SystemExit(f"{filename}: tr() without a context lupdate can see; "
                         "use QCoreApplication.translate(\"Context\", ...) or a def tr helper")
    return found.group(1)


def context_element(name: str) -> ET.Element:
    if name not in contexts:
        element = ET.SubElement(root, "context")
        ET.SubElement(element, "name").text = name
        contexts[name] = element
    return contexts[name]


def same_message(a: ET.Element, b: ET.Element) -> bool:
    return a.findtext("source") == b.findtext("source") and a.findtext("comment") == b.findtext("comment")


def move(message: ET.Element, name: str, locations: list) -> None:
    target = context_element(name)
    new = ET.fromstring(ET.tostring(message))
    for loc in new.findall("location"):
        new.remove(loc)
    for i, loc in enumerate(locations):
        new.insert(i, loc)
    for old in [m for m in target.findall("message") if same_message(m, new)]:
        kept = old.find("translation")
        if kept is not None and (kept.text or len(kept)):  # keep the translation it had here
            new.remove(new.find("translation"))
            if kept.get("type") in ("vanished", "obsolete"):  # lupdate saw it under "", not here
                del kept.attrib["type"]
            new.append(kept)
        target.remove(old)
    target.append(new)


if anonymous is not None:
    root.remove(anonymous)
    for message in anonymous.findall("message"):
        by_context: dict[str, list] = {}
        for loc in message.findall("location"):
            by_context.setdefault(file_context(loc.get("filename")), []).append(loc)
        for name, locations in by_context.items():
            move(message, name, locations)
ET.indent(tree, space="    ")
body = ET.tostring(root, encoding="unicode")
ts_path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8")
PY
    "$VENV_BIN/pyside6-lrelease" "$ts" -qm "$I18N/vramplan_$lang.qm"
done
