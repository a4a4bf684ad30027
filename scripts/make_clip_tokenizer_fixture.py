#!/usr/bin/env python3
"""Token ids of the official SAM 3 tokenizer (sam3/model/tokenizer_ve.py `SimpleTokenizer`,
context 32 as `VETextEncoder` calls it) for phrases that exercise its cleaning, split pattern, BPE
and truncation, with the reduced fixture's vocabulary (committed) and CLIP's full one (the test
that uses those ids skips when the full file is not found).

    /tmp/sam3-venv/bin/python scripts/make_clip_tokenizer_fixture.py
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from make_sam3_fixture import OUT, VOCAB_NAME, bpe_path, LONG_PHRASE  # noqa: E402

PHRASES = [
    "yellow school bus", "  Yellow   SCHOOL\tbus  ", "cat's ears, 2 dogs!", "don't won't I'll we've they're",
    "a 1024x768 photo", "x-ray; (left) knee...", "naïve café", "Straße", "日本の猫", "🚌 bus 🚌", "person&amp;dog",
    "&lt;b&gt;bold&lt;/b&gt;", "&#39;quoted&#x27;", "“curly” ‘quotes’", "ﬁsh ﬂies", "ＦＵＬＬ　ｗｉｄｔｈ", "line\r\nbreak",
    "tab\u000bvertical", "<start_of_text>", "a<end_of_text>b", "''s", "1.5 kg", "Ωmega αβγ", "x" * 60, "a", "!!!",
    LONG_PHRASE,
]


def main():
    from sam3.model.tokenizer_ve import SimpleTokenizer
    out = {"context": 32, "reduced_vocabulary": VOCAB_NAME, "cases": []}
    reduced, full = SimpleTokenizer(bpe_path=str(OUT / VOCAB_NAME)), SimpleTokenizer(bpe_path=bpe_path())
    out["reduced_size"], out["full_size"] = reduced.vocab_size, full.vocab_size
    for p in PHRASES:
        out["cases"].append({"text": p, "reduced": reduced([p], context_length=32)[0].tolist(),
                             "full": full([p], context_length=32)[0].tolist(), "full_untruncated": len(full.encode(p)) + 2})
    (OUT / "tokenizer_cases.json").write_text(json.dumps(out, ensure_ascii=False, indent=0))
    print("wrote", OUT / "tokenizer_cases.json")


if __name__ == "__main__":
    main()
