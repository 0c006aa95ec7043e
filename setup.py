"""Build driver: setuptools hands the compiled modules to CMake (see CMakeLists.txt).

Environment:
  FSS_CUDA=auto|0|1    build the CUDA module when nvcc is found (auto), never, or always
  FSS_CUDA_ARCHS=90    CUDA architectures (semicolon- or comma-separated)
  FSS_BUILD_JOBS=N     parallel compile jobs (default: all cores)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeExtension(Extension):
    """Placeholder extension: CMake builds every module of the package in one go."""

    def __init__(self, name: str):
        super().__init__(name, sources=[])


def _cuda_setting() -> str:
    value = os.environ.get("FSS_CUDA", "auto").strip().lower()
    mapping = {"auto": "AUTO", "1": "ON", "on": "ON", "yes": "ON", "0": "OFF", "off": "OFF", "no": "OFF"}
    if value not in mapping:
        raise ValueError(f"FSS_CUDA must be auto, 0 or 1, not {value!r}")
    return mapping[value]


def _find_nvcc() -> str | None:
    for cand in (os.environ.get("CUDACXX"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"):
        if cand and os.path.exists(cand):
            return cand
    return None


CUDA_MODE = _cuda_setting()
NVCC = _find_nvcc()
BUILD_CUDA = CUDA_MODE == "ON" or (CUDA_MODE == "AUTO" and NVCC is not None)


def _cache_entries(cache: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in cache.read_text(errors="replace").splitlines():
        if line.startswith(("//", "#")) or "=" not in line or ":" not in line.split("=", 1)[0]:
            continue
        key, value = line.split("=", 1)
        entries[key.split(":", 1)[0]] = value
    return entries


def _reset_stale_cache(build_dir: Path, generator: str) -> None:
    """Repeated and alternating installs (`pip install .`, `pip install ".[test]"`,
    `pip install -e .`) share the in-tree build directory, but each isolated install brings
    its own temporary cmake/ninja/pybind11. Keep the cache (and the compiled objects) when it
    can be reused; drop the cache when the generator changed or the cmake that made it is
    gone (CMake cannot switch generators in place). Object files under CMakeFiles/ are only
    removed in the generator case, where CMake requires it."""
    cache = build_dir / "CMakeCache.txt"
    if not cache.exists():
        return
    entries = _cache_entries(cache)
    cmake_now = shutil.which("cmake")
    stale_generator = entries.get("CMAKE_GENERATOR", generator) != generator
    cached_cmake = entries.get("CMAKE_COMMAND", "")
    stale_cmake = bool(cached_cmake) and not os.path.exists(cached_cmake)
    if stale_generator:
        cache.unlink()
        shutil.rmtree(build_dir / "CMakeFiles", ignore_errors=True)
        for name in ("build.ninja", ".ninja_log", ".ninja_deps", "Makefile", "cmake_install.cmake"):
            (build_dir / name).unlink(missing_ok=True)
    elif stale_cmake and cmake_now and os.path.realpath(cmake_now) != os.path.realpath(cached_cmake):
        # Same generator, another cmake binary: reconfigure from scratch but keep objects
        # (ninja rebuilds only what changed, e.g. files including the new pybind11 headers).
        cache.unlink()


class CMakeBuild(build_ext):
    """One CMake run builds every declared module (_C, and _C_cuda when CUDA is built);
    declaring both lets setuptools place both, in regular and editable installs."""

    _built = False

    def build_extension(self, ext: Extension) -> None:
        if CMakeBuild._built:
            if not Path(self.get_ext_fullpath(ext.name)).exists():
                raise RuntimeError(f"CMake did not produce {ext.name} at {self.get_ext_fullpath(ext.name)}")
            return
        CMakeBuild._built = True
        out_dir = Path(self.get_ext_fullpath(ext.name)).parent.resolve()
        build_dir = Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        import pybind11

        archs = os.environ.get("FSS_CUDA_ARCHS", "90").replace(",", ";")
        args = [
            f"-DCMAKE_BUILD_TYPE=Release",
            f"-DFSS_BUILD_PYTHON=ON",
            f"-DFSS_CUDA={'ON' if BUILD_CUDA else 'OFF'}",
            f"-DFSS_CUDA_ARCHS={archs}",
            f"-DCMAKE_CUDA_ARCHITECTURES={archs}",
            f"-DFSS_PY_OUTPUT_DIR={out_dir}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            f"-DPython_EXECUTABLE={sys.executable}",
        ]
        if BUILD_CUDA and NVCC:
            args.append(f"-DCMAKE_CUDA_COMPILER={NVCC}")
        ninja = shutil.which("ninja")
        generator = "Ninja" if ninja else "Unix Makefiles"
        args.append(f"-G{generator}")
        if ninja:
            # Always name the make program of *this* build: pip's isolated build environments
            # are temporary, and a cache pointing at a deleted one's ninja broke the next install.
            args.append(f"-DCMAKE_MAKE_PROGRAM={ninja}")
        _reset_stale_cache(build_dir, generator)
        jobs = os.environ.get("FSS_BUILD_JOBS", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), *args], check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--parallel", jobs], check=True)


setup(
    ext_modules=[CMakeExtension("fsskernels._C")] + ([CMakeExtension("fsskernels._C_cuda")] if BUILD_CUDA else []),
    cmdclass={"build_ext": CMakeBuild},
)
