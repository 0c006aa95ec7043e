"""Cross-language key compatibility: keys made by the C++ library (examples/cpp_consumer)
evaluate correctly in Python, keys made in Python evaluate correctly in C++, and both make
identical bytes for the same seed (docs/cpp.md, docs/kernels.md section 5).

The example is built once per session with CMake (add_subdirectory of this tree) in a
temporary directory; set FSS_CPP_BUILD_DIR to a directory holding an already built
fss_consumer to skip the build. Skips cleanly without cmake or a C++ compiler.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fsskernels as fk
from fsskernels import KeyBatch

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cpp_consumer"
MAGIC = b"FSSXKEYS"


def _find_built(build_dir: Path) -> Path | None:
    for cand in (build_dir / "fss_consumer", *build_dir.glob("**/fss_consumer")):
        if cand.is_file() and os.access(cand, os.X_OK):
            return cand
    return None


@pytest.fixture(scope="session")
def consumer(tmp_path_factory) -> Path:
    prebuilt = os.environ.get("FSS_CPP_BUILD_DIR")
    if prebuilt:
        exe = _find_built(Path(prebuilt))
        if exe is None:
            pytest.fail(f"FSS_CPP_BUILD_DIR={prebuilt} holds no fss_consumer executable")
        return exe
    cmake = shutil.which("cmake")
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cmake or not cxx or not cc:
        pytest.skip("cmake or a C/C++ compiler is not available")
    build = tmp_path_factory.mktemp("cpp_consumer")
    args = [cmake, "-S", str(EXAMPLE), "-B", str(build), "-DUSE_SUBDIRECTORY=ON", "-DFSS_CUDA=OFF",
            "-DCMAKE_BUILD_TYPE=Release", f"-DFSSKERNELS_SOURCE_DIR={ROOT}"]
    if shutil.which("ninja"):
        args.append("-GNinja")
    jobs = os.environ.get("FSS_BUILD_JOBS", "2")
    try:
        subprocess.run(args, check=True, capture_output=True, text=True, timeout=300)
        subprocess.run([cmake, "--build", str(build), "--target", "fss_consumer", "-j", jobs], check=True,
                       capture_output=True, text=True, timeout=600)
    except subprocess.CalledProcessError as e:  # a broken build is a failure, not a skip
        pytest.fail(f"building examples/cpp_consumer failed:\n{e.stdout}\n{e.stderr}")
    exe = _find_built(build)
    assert exe is not None
    return exe


def _run(exe: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, env=env)
    if check and proc.returncode != 0:
        pytest.fail(f"{exe.name} {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def read_key_file(path: Path):
    data = path.read_bytes()
    assert data[:8] == MAGIC
    n, key_len = struct.unpack_from("<QQ", data, 8)
    off = 24
    alpha = np.frombuffer(data, dtype="<u8", count=n, offset=off).astype(np.uint64)
    beta = np.frombuffer(data, dtype="<u8", count=n, offset=off + 8 * n).astype(np.uint64)
    off += 16 * n
    k0 = data[off:off + key_len]
    k1 = data[off + key_len:off + 2 * key_len]
    assert len(data) == off + 2 * key_len
    return alpha, beta, k0, k1


def write_key_file(path: Path, alpha: np.ndarray, beta: np.ndarray, k0: bytes, k1: bytes) -> None:
    assert len(k0) == len(k1)
    path.write_bytes(MAGIC + struct.pack("<QQ", len(alpha), len(k0)) + alpha.astype("<u8").tobytes()
                     + beta.astype("<u8").tobytes() + k0 + k1)


def _mask(m: int) -> int:
    return (1 << m) - 1


def _expected(scheme: str, alpha: np.ndarray, beta: np.ndarray, x: np.ndarray, out_bits: int) -> np.ndarray:
    hit = (x == alpha) if scheme == "dpf" else (x < alpha)
    return np.where(hit, beta & np.uint64(_mask(out_bits)), np.uint64(0)).astype(np.uint64)


def _probes(alpha: np.ndarray, bits: int, rng: np.random.Generator) -> list[np.ndarray]:
    m = np.uint64(_mask(bits))
    with np.errstate(over="ignore"):
        return [alpha, (alpha - np.uint64(1)) & m, (alpha + np.uint64(1)) & m,
                rng.integers(0, 2**64, size=alpha.size, dtype=np.uint64) & m]


def _reconstruct(scheme: str, kb0: KeyBatch, kb1: KeyBatch, x: np.ndarray, out_bits: int) -> np.ndarray:
    ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
    with np.errstate(over="ignore"):
        return (ev(0, kb0, x) + ev(1, kb1, x)) & np.uint64(_mask(out_bits))


CASES = [("dcf", 64, 64), ("dcf", 64, 1), ("dcf", 20, 16), ("dcf", 7, 3), ("dpf", 64, 64), ("dpf", 12, 8),
         ("dpf", 64, 1)]


@pytest.mark.parametrize("scheme,bits,out_bits", CASES)
def test_cpp_keys_evaluate_in_python(consumer, tmp_path, scheme, bits, out_bits):
    path = tmp_path / "keys.bin"
    _run(consumer, "--write-keys", str(path), "--scheme", scheme, "--bits", str(bits), "--out-bits", str(out_bits),
         "--count", "70", "--seed", "none")
    alpha, beta, k0, k1 = read_key_file(path)
    kb0, kb1 = KeyBatch.from_bytes(k0), KeyBatch.from_bytes(k1)  # full validation
    assert (kb0.scheme, kb0.party, kb0.bits, kb0.out_bits, len(kb0)) == (scheme, 0, bits, out_bits, 70)
    assert (kb1.scheme, kb1.party) == (scheme, 1)
    rng = np.random.default_rng(1)
    for x in _probes(alpha, bits, rng):
        np.testing.assert_array_equal(_reconstruct(scheme, kb0, kb1, x, out_bits),
                                      _expected(scheme, alpha, beta, x, out_bits))


@pytest.mark.parametrize("scheme,bits,out_bits", CASES)
def test_python_keys_evaluate_in_cpp(consumer, tmp_path, scheme, bits, out_bits):
    rng = np.random.default_rng(bits * 100 + out_bits)
    n = 45
    alpha = rng.integers(0, 2**64, size=n, dtype=np.uint64) & np.uint64(_mask(bits))
    beta = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    kb0, kb1 = gen(alpha, beta, bits=bits, out_bits=out_bits)
    path = tmp_path / "py_keys.bin"
    write_key_file(path, alpha, beta, kb0.to_bytes(), kb1.to_bytes())
    proc = _run(consumer, "--eval-keys", str(path))
    assert "eval-keys: OK" in proc.stdout and f"count={n}" in proc.stdout


def test_corrupted_python_keys_rejected_by_cpp(consumer, tmp_path):
    alpha = np.arange(10, dtype=np.uint64) * np.uint64(1000)
    kb0, kb1 = fk.dcf_gen(alpha, 5, bits=32, out_bits=32)
    k0 = bytearray(kb0.to_bytes())
    k0[len(k0) // 2] ^= 0x01
    path = tmp_path / "bad.bin"
    write_key_file(path, alpha, np.full(10, 5, dtype=np.uint64), bytes(k0), kb1.to_bytes())
    proc = _run(consumer, "--eval-keys", str(path), check=False)
    assert proc.returncode == 1
    assert "keys:" in proc.stderr and "checksum" in proc.stderr


@pytest.mark.parametrize("scheme,bits,out_bits", CASES)
def test_same_bytes_for_same_seed(consumer, tmp_path, scheme, bits, out_bits):
    path = tmp_path / "seeded.bin"
    seed = 0x5EED_0000_1234 + bits
    _run(consumer, "--write-keys", str(path), "--scheme", scheme, "--bits", str(bits), "--out-bits", str(out_bits),
         "--count", "40", "--seed", str(seed))
    alpha, beta, k0, k1 = read_key_file(path)
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    kb0, kb1 = gen(alpha, beta, bits=bits, out_bits=out_bits, seed=seed)
    assert kb0.to_bytes() == k0
    assert kb1.to_bytes() == k1
    # and a different seed gives different keys
    other0, _ = gen(alpha, beta, bits=bits, out_bits=out_bits, seed=seed + 1)
    assert other0.to_bytes() != k0
