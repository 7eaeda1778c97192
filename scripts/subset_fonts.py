"""Make the fonts partnerctl bundles for invoice PDFs: DejaVu Sans (regular and bold) cut down to the
scripts European invoices are written in, so each PDF parses and subsets a small font.

Run:  python scripts/subset_fonts.py [DIR]   # DIR: where DejaVuSans.ttf is (default the Debian fonts)

Kept: Basic Latin, Latin-1, Latin Extended-A/B and Additional, IPA extensions' neighbours in use,
Greek, Cyrillic, general punctuation, currency symbols, letterlike symbols, arrows and the minus
sign; everything DejaVu Sans has in those blocks. The result is DejaVu Sans still (its licence,
src/partnerctl/documents/fonts/LICENSE, allows modified copies under a name without "Bitstream" or
"Vera"; the font names are kept as DejaVu's).
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset, ttLib

RANGES = (
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x0250, 0x02FF), (0x0300, 0x036F), (0x0370, 0x03FF),
    (0x0400, 0x052F), (0x1E00, 0x1EFF), (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F),
    (0x2150, 0x218F), (0x2190, 0x21FF), (0x2212, 0x2212), (0xFFFD, 0xFFFD),
)  # fmt: skip
TARGET = Path(__file__).resolve().parent.parent / "src" / "partnerctl" / "documents" / "fonts"


def cut(source: Path, target: Path) -> None:
    font = ttLib.TTFont(source, recalcTimestamp=False)
    options = subset.Options()
    options.name_IDs, options.name_languages, options.name_legacy = ["*"], ["*"], True
    options.notdef_outline, options.glyph_names, options.layout_features = True, True, ["*"]
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[u for first, last in RANGES for u in range(first, last + 1)])
    subsetter.subset(font)
    font.save(target)


def main() -> None:
    source_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/usr/share/fonts/truetype/dejavu")
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        cut(source_dir / name, TARGET / name)
        print(f"{TARGET / name}: {(TARGET / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
