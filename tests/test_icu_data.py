"""The bundle's cut ICU data (installer/icu_data.py): the package format is written back as
read, and Qt gives the same answers with the cut library as with the full one wherever an
English-only application asks ICU (collation, case mapping, time-zone names, the character-set
converters), while a dropped locale's data is really gone.

The cut library is built here from this environment's PySide6 wheel and preloaded under its
own name, as the bundle's loader would find it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "installer"))
from icu_data import build_library, data_symbol, kept, read_package, write_package  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the ICU data is cut for the Linux bundle only")

PROBE = r"""
import functools, json
from PySide6.QtCore import QByteArray, QCollator, QLocale, QStringConverter, QTimeZone
words = ["zebra", "Äpfel", "apple", "Apple", "éclair", "eclair", "Zulu", "résumé", "10", "9", "ö"]
out = {}
for name in ("en_US", "en_GB", "C", "sv_SE"):
    order = functools.cmp_to_key(QCollator(QLocale(name)).compare)
    out[f"collation {name}"] = sorted(words, key=order)
out["upper en"] = QLocale("en_US").toUpper("straße ǆ ﬁ")
out["lower en"] = QLocale("en_US").toLower("İSTANBUL ΣΑΣ")
out["upper tr"] = QLocale("tr_TR").toUpper("istanbul")
zone = QTimeZone(QByteArray(b"Europe/Berlin"))
for kind in ("LongName", "ShortName"):
    out[f"zone {kind}"] = zone.displayName(QTimeZone.TimeType.StandardTime,
                                           getattr(QTimeZone.NameType, kind), QLocale("en_US"))
out["converters"] = sorted(QStringConverter.availableCodecs())
out["icu data"] = [line.split()[-1] for line in open("/proc/self/maps") if "libicudata" in line][:1]
print(json.dumps(out, ensure_ascii=False))
"""


def _full_library() -> Path:
    import PySide6

    found = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    if not found:
        pytest.fail("PySide6's wheel no longer ships libicudata: revisit installer/icu_data.py")
    return found[0]


def _probe(preload: Path | None = None) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_package_is_written_back_as_it_was_read():
    library = _full_library()
    _, offset, size = data_symbol(library)
    header, items = read_package(library.read_bytes()[offset: offset + size])
    assert len(items) > 1000 and any(name.endswith("/root.res") for name, _ in items)
    assert read_package(write_package(header, items)) == (header, items)
    subset = [item for item in items if kept(item[0])]
    assert read_package(write_package(header, subset)) == (header, subset)


def test_the_cut_keeps_root_english_converters_and_core_tables_only():
    assert kept("icudt73l/root.res") and kept("icudt73l/en_GB.res")
    assert kept("icudt73l/cnvalias.icu") and kept("icudt73l/uprops.icu")
    assert kept("icudt73l/coll/ucadata.icu") and kept("icudt73l/coll/res_index.res")
    assert kept("icudt73l/ibm-943_P15A-2003.cnv") and kept("icudt73l/zone/en.res")
    assert kept("icudt73l/supplementalData.res") and kept("icudt73l/zoneinfo64.res")
    assert not kept("icudt73l/coll/sv.res") and not kept("icudt73l/de_DE.res")
    assert not kept("icudt73l/brkitr/cjdict.dict")


def test_qt_answers_as_with_the_full_data_and_dropped_locales_fall_back_to_root(tmp_path):
    full_library = _full_library()
    cut = build_library(full_library, tmp_path)
    assert cut is not None, "no C compiler: the bundle build cannot cut the ICU data either"
    assert cut.stat().st_size < full_library.stat().st_size / 2
    full, trimmed = _probe(), _probe(cut)
    assert trimmed.pop("icu data") == [str(cut)] and full.pop("icu data") != [str(cut)]
    swedish = "collation sv_SE"  # Swedish sorts ö and Ä after z; root sorts them with o and a
    assert full.pop(swedish)[-2:] == ["Äpfel", "ö"]
    assert trimmed.pop(swedish)[-2:] == ["zebra", "Zulu"]
    assert trimmed == full
