#!/usr/bin/env python3
"""Writes Sources/SegTUI/Theme/BuiltInThemes.swift from themes/*.toml (the shipped themes are
compiled in; ThemeTests checks the two agree). Run after editing a theme file:

    python3 scripts/embed_themes.py
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["dark", "light", "high-contrast"]

entries = "".join(f'        "{name}": #"""\n{(ROOT / "themes" / (name + ".toml")).read_text()}\n"""#,\n' for name in NAMES)
(ROOT / "Sources/SegTUI/Theme/BuiltInThemes.swift").write_text(f'''/// The shipped themes, compiled in so `--theme light` works from any build or install
/// location. `themes/*.toml` stay the editable source: `scripts/embed_themes.py` writes this file
/// from them, and a test checks the two agree.
extension Theme {{
    static let builtInSources: [String: String] = [
{entries}    ]
}}
''')
