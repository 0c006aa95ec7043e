#!/usr/bin/env bash
# scripts/gpu_check.sh: the GPU validation run of issue 20, made to fit one device session.
#
#   bash scripts/gpu_check.sh            # from the repository root, on the machine with the GPU
#
# What it does, stage by stage (each time-boxed with `timeout`; a failing or timed-out stage is
# recorded and the script goes on to the next; stages past the overall budget are skipped):
#   env        nvidia-smi, nvcc, python, torch / CuPy and the GPU they see
#   wheels     only if $WHEELS names a folder of wheels: installed into /tmp/fsk-site and put
#              first on PYTHONPATH (packages the GPU image lacks)
#   build      `pip install --no-build-isolation --no-deps .` with FSS_CUDA=1 (the path users
#              take: setup.py drives CMake; offline, with the image's setuptools, pybind11,
#              cmake and ninja). If it fails, `build-cmake` builds the same modules with CMake
#              straight into python/fsskernels and puts python/ on PYTHONPATH.
#   import     build_info(): the CUDA module is compiled and sees the GPU
#   cuda-tests pytest tests/test_cuda.py tests/cuda tests/mpc/test_mpc_cuda.py (junit XML);
#              on a GPU none of the GPU tests may skip, so skips are listed in the summary
#   bench      bench/bench_cuda.py --json: DPF/DCF eval + keygen at 2^20 keys (kernel-only,
#              API and end to end), AES hash, full-domain DPF, ring GEMM SIMT vs IMMA vs CuPy
#              int64 up to 4096^3, and issue 20's targets met / not met
#   sass       cuobjdump: the IMMA kernel really holds tensor-core instructions (IMMA), and
#              registers / spills of the ring GEMM kernels
#   sanitizer  compute-sanitizer memcheck over the GPU ring GEMM, eval_all and lookup tests
#   suite      the whole test suite (informational: the image's package versions differ from
#              the project's pins, and some test extras are missing there)
#
# Results under $OUT (default ./gpu-out), at most 8 files (what the device tool brings back):
#   summary.txt  one line per stage (status, seconds) + test counts + the bench targets
#   gpu_check.log  every stage's output
#   junit_cuda.xml, junit_suite.xml, bench_cuda.json
# Exit status: 0 if build, import, cuda-tests and bench passed; 1 otherwise.
#
# Environment: OUT, PY (python3), FSS_CUDA_ARCHS (90), BUDGET_S (overall seconds, 420),
#   STAGES (space-separated subset, default all), WHEELS (folder of .whl files), MAXFAIL (25),
#   INSTALL_TARGET (pip --target folder instead of the interpreter's environment; for dry runs
#   on a shared machine), SUITE_WORKERS (pytest-xdist workers for the suite, 8), FSS_BUILD_JOBS
#   (compile jobs, default all cores).
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
PY=${PY:-python3}
ARCHS=${FSS_CUDA_ARCHS:-90}
BUDGET_S=${BUDGET_S:-420}
STAGES=${STAGES:-env wheels build import cuda-tests bench sass sanitizer suite}
MAXFAIL=${MAXFAIL:-25}
SUITE_WORKERS=${SUITE_WORKERS:-8}
LOG=$OUT/gpu_check.log
SUM=$OUT/summary.txt
: >"$LOG"
: >"$SUM"
T0=$(date +%s)
declare -A STATUS

say() { echo "$*" | tee -a "$LOG"; }
wanted() { [[ " $STAGES " == *" $1 "* ]]; }
elapsed() { echo $(($(date +%s) - T0)); }

# run_stage NAME LIMIT_S COMMAND [SIGNAL]: runs COMMAND (a bash string) under `timeout`, output
# to the log and stdout; records ok / FAIL(rc) / TIMEOUT / SKIPPED(budget) with the seconds
# taken. SIGNAL (default TERM) is sent at the limit: INT for pytest (started with `exec`), which
# then stops cleanly and still writes its junit XML and summary.
run_stage() {
  local name=$1 limit=$2 cmd=$3 sig=${4:-TERM}
  if ! wanted "$name"; then
    return 0
  fi
  local left=$((BUDGET_S - $(elapsed)))
  if ((left < 20)); then
    STATUS[$name]="SKIPPED(budget)"
    printf '%-11s %-16s %5s s\n' "$name" "SKIPPED(budget)" 0 >>"$SUM"
    say "== $name: skipped, ${left}s of the ${BUDGET_S}s budget left"
    return 0
  fi
  ((limit > left)) && limit=$left
  say "== $name (limit ${limit}s, at +$(elapsed)s)"
  local t=$(date +%s) rc
  timeout --signal="$sig" --kill-after=15 "$limit" bash -c "$cmd" 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  local dt=$(($(date +%s) - t)) st
  if ((rc == 0)); then st=ok; elif ((rc == 124 || rc == 137 || dt >= limit)); then st=TIMEOUT; else st="FAIL($rc)"; fi
  STATUS[$name]=$st
  printf '%-11s %-16s %5s s\n' "$name" "$st" "$dt" >>"$SUM"
  say "== $name: $st in ${dt}s"
}

export PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# The interpreter's bin folder (its cmake / ninja entry points), the cmake and ninja Python
# packages' binaries, and the CUDA toolkit's tools (nvcc, cuobjdump, compute-sanitizer).
PYBIN=$(dirname "$(command -v "$PY" || echo /usr/bin/python3)")
CMAKE_BIN=$($PY -c 'import cmake; print(cmake.CMAKE_BIN_DIR)' 2>/dev/null || true)
NINJA_BIN=$($PY -c 'import ninja; print(ninja.BIN_DIR)' 2>/dev/null || true)
for d in /usr/local/cuda/compute-sanitizer /usr/local/cuda/bin "$NINJA_BIN" "$CMAKE_BIN" "$PYBIN"; do
  [ -n "$d" ] && [ -d "$d" ] && PATH=$d:$PATH
done
export PATH

run_stage env 60 "
  nvidia-smi || echo 'nvidia-smi: not available'
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>/dev/null
  command -v nvcc && nvcc --version | tail -2 || echo 'nvcc: not found'
  for t in cmake ninja cuobjdump compute-sanitizer; do echo \"\$t: \$(command -v \$t || echo not found)\"; done
  $PY -V; nproc; uname -m
  $PY - <<'EOF'
import importlib
for name in ('numpy', 'torch', 'cupy', 'pybind11', 'setuptools', 'cmake', 'ninja', 'pytest', 'xdist', 'Crypto'):
    try:
        m = importlib.import_module(name)
        print(f'{name:10s} {getattr(m, \"__version__\", \"?\")}')
    except Exception as e:
        print(f'{name:10s} missing ({type(e).__name__})')
try:
    import torch
    print('torch.cuda:', torch.cuda.is_available(), torch.version.cuda,
          torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-')
except Exception as e:
    print('torch.cuda: error', e)
EOF
"

# Wheels the image lacks (docs/gpu.md says which and how to fetch them); the PYTHONPATH set
# here applies to every later stage.
if wanted wheels && [ -n "${WHEELS:-}" ]; then
  SITE=/tmp/fsk-site
  run_stage wheels 90 "$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target '$SITE' '$WHEELS'/*.whl"
  [ "${STATUS[wheels]:-}" = ok ] && export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
fi

TARGET_ARGS=""
if [ -n "${INSTALL_TARGET:-}" ]; then
  mkdir -p "$INSTALL_TARGET"
  TARGET_ARGS="--target '$INSTALL_TARGET' --upgrade"
  export PYTHONPATH=$INSTALL_TARGET${PYTHONPATH:+:$PYTHONPATH}
fi
JOBS=${FSS_BUILD_JOBS:-$(nproc 2>/dev/null || echo 4)}
run_stage build 330 "FSS_CUDA=1 FSS_CUDA_ARCHS='$ARCHS' FSS_BUILD_JOBS=$JOBS $PY -m pip install --no-build-isolation --no-deps -v $TARGET_ARGS ."
if wanted build && [ "${STATUS[build]:-}" != ok ]; then
  STAGES="$STAGES build-cmake"
  run_stage build-cmake 300 "
    cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DFSS_BUILD_PYTHON=ON -DFSS_CUDA=ON \
      -DFSS_CUDA_ARCHS='$ARCHS' -DCMAKE_CUDA_ARCHITECTURES='$ARCHS' -DFSS_PY_OUTPUT_DIR='$ROOT/python/fsskernels' \
      -Dpybind11_DIR=\$($PY -c 'import pybind11; print(pybind11.get_cmake_dir())') -DPython_EXECUTABLE=\$(command -v $PY) \
    && cmake --build build-gpu --parallel $JOBS"
  [ "${STATUS[build-cmake]:-}" = ok ] && export PYTHONPATH=$ROOT/python${PYTHONPATH:+:$PYTHONPATH}
fi

run_stage import 60 "cd /tmp && $PY -c \"
import fsskernels as fk, sys
info = fk.build_info()
print(fk.__file__); print(info)
sys.exit(0 if info['cuda_compiled'] and 'cuda' in fk.available_backends() else 3)\""

run_stage cuda-tests 240 "exec $PY -m pytest tests/test_cuda.py tests/cuda tests/mpc/test_mpc_cuda.py -q -rs \
  --maxfail=$MAXFAIL -p no:cacheprovider --junitxml='$OUT/junit_cuda.xml'" INT

run_stage bench 240 "$PY bench/bench_cuda.py --json '$OUT/bench_cuda.json'"

run_stage sass 45 "
  so=\$(cd /tmp && $PY -c 'import fsskernels._C_cuda as m; print(m.__file__)') || exit 4
  echo \"module: \$so\"
  cuobjdump --list-elf \"\$so\"
  n=\$(cuobjdump -sass \"\$so\" | grep -c 'IMMA')
  echo \"IMMA instructions in the module: \$n\"
  cuobjdump --dump-resource-usage \"\$so\" | grep -A1 'ring_gemm' | head -20
  [ \"\$n\" -gt 0 ]"

run_stage sanitizer 120 "compute-sanitizer --tool memcheck --error-exitcode 9 $PY -m pytest -q -p no:cacheprovider \
  tests/cuda/test_cuda_ring_imma.py tests/cuda/test_cuda_lookup.py tests/test_cuda.py \
  -k 'gpu_imma or gpu_ring_matmul or gpu_eval_all or gpu_lookup'"

XDIST=""
$PY -c "import xdist" 2>/dev/null && XDIST="-n $SUITE_WORKERS"
run_stage suite 200 "exec $PY -m pytest tests -q -p no:cacheprovider $XDIST -m 'not slow' --continue-on-collection-errors \
  --junitxml='$OUT/junit_suite.xml'" INT

# ----------------------------------------------------------------------------- summary
{
  echo
  echo "total: $(elapsed) s (budget ${BUDGET_S} s)"
  for x in junit_cuda junit_suite; do
    [ -f "$OUT/$x.xml" ] && $PY - "$OUT/$x.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
tot = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
name = sys.argv[1].rsplit("/", 1)[-1]
print(f"{name}: {tot['tests']} tests, {tot['failures']} failed, {tot['errors']} errors, {tot['skipped']} skipped")
bad = [c for s in suites for c in s.iter("testcase") if c.find("failure") is not None or c.find("error") is not None]
for c in bad[:15]:
    print(f"  FAILED {c.get('classname')}::{c.get('name')}")
if "cuda" in name:
    sk = [c for s in suites for c in s.iter("testcase") if c.find("skipped") is not None]
    for c in sk[:15]:
        print(f"  skipped {c.get('name')}: {c.find('skipped').get('message', '')[:100]}")
EOF
  done
  [ -f "$OUT/bench_cuda.json" ] && $PY - "$OUT/bench_cuda.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print("bench on", d.get("device"))
for r in d["rows"]:
    if r.get("error"):
        print(f"  {r['case']:36s} ERROR {r['error'][:120]}")
        continue
    per = "" if r["case"].startswith("ring") else f"{r['kernel_ms'] * 1e6 / r['n']:9.3f} ns/el kernel"
    extra = f"{r['gmacs']:8.0f} G ring-MAC/s" if "gmacs" in r else ""
    if "cupy_i64_ms" in r:
        extra += f", cupy i64 {r['cupy_i64_ms']:.2f} ms"
    if "gblocks_per_s" in r:
        extra += f" {r['gblocks_per_s']:.1f} G blocks/s"
    chk = {True: "ok", False: "CHECK FAILED", None: ""}[r.get("check")]
    e2e = f" (e2e {r['e2e_ms']:.3f} ms)" if r.get("e2e_ms") is not None else ""
    print(f"  {r['case']:36s} {r['kernel_ms']:10.3f} ms{e2e} {per} {extra} {chk}")
for t in d.get("targets", []):
    v = "not measured" if t["value"] is None else f"{t['value']:.3f}"
    print(f"  target: {t['target']:60s} {v:>12s} {dict([(None, '-'), (True, 'met'), (False, 'NOT MET')])[t['met']]}")
EOF
} >>"$SUM" 2>&1

echo
echo "================ summary ($OUT/summary.txt)"
cat "$SUM"
rc=0
for s in import cuda-tests bench; do
  wanted "$s" && [ "${STATUS[$s]:-missing}" != ok ] && rc=1
done
wanted build && [ "${STATUS[build]:-}" != ok ] && [ "${STATUS[build-cmake]:-}" != ok ] && rc=1
exit $rc
