#!/usr/bin/env bash
# Checks the embeddable C++ library end to end (CPU only, no CUDA, no Python):
#   1. Release build of fsskernels::core with the C/C++ tests (tests/cpp), run by ctest
#   1b. constant-time check of key generation/evaluation under valgrind (ctgrind), with a
#      negative control; then the key-parser fuzz target for a fixed budget (tests/fuzz)
#   2. cmake --install into a temporary prefix
#   3. examples/cpp_consumer against the installed package (find_package)
#   4. examples/cpp_consumer through add_subdirectory of the source tree
#   5. ASan + UBSan build (-DFSS_SANITIZE=ON, RelWithDebInfo): the C API and C++ tests, then
#      the example (C++ and pure C programs, key-file round trip) linked against it
# Usage: bash scripts/check_cpp.sh            (CI: the same; about 3-4 minutes on 2 cores)
# Environment: FSS_JOBS (parallel jobs, default 2), FSS_CHECK_DIR (work directory, default a
#   fresh temporary one, removed on success unless FSS_KEEP=1), CMAKE (cmake binary),
#   FSS_SKIP_SANITIZE=1 (skip step 5), FSS_SKIP_CT=1 (skip step 1b; needs valgrind otherwise).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JOBS=${FSS_JOBS:-2}
CMAKE=${CMAKE:-cmake}
CTEST=$(dirname "$(command -v "$CMAKE")")/ctest
[[ -x "$CTEST" ]] || CTEST=ctest
if [[ -n "${FSS_CHECK_DIR:-}" ]]; then
  WORK=$FSS_CHECK_DIR
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/fss_check_cpp.XXXXXX")
fi
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
COMMON=(-DFSS_CUDA=OFF -DFSS_BUILD_PYTHON=OFF)
SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

t0=$SECONDS
step() { printf '\n=== [%3ds] %s\n' $((SECONDS - t0)) "$*"; }

step "1. Release build and tests (work dir $WORK)"
"$CMAKE" -S "$ROOT" -B "$WORK/release" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DFSS_BUILD_TESTS=ON "${COMMON[@]}" >/dev/null
"$CMAKE" --build "$WORK/release" -j "$JOBS"
"$CTEST" --test-dir "$WORK/release" --output-on-failure

if [[ "${FSS_SKIP_CT:-0}" != 1 ]]; then
  step "1b. Constant-time check (ctgrind): key generation and evaluation under valgrind memcheck"
  # alpha, beta and the seed are marked undefined; any branch or address depending on them
  # is a memcheck error (tests/cpp/ct_keygen.cpp). Valgrind has no AVX-512: the portable and
  # AES-NI paths are checked. About 1-3 minutes on 2 cores.
  command -v valgrind >/dev/null || { echo "valgrind not found (set FSS_SKIP_CT=1 to skip this check)"; exit 1; }
  test -x "$WORK/release/tests/cpp/fss_ct_keygen" || { echo "fss_ct_keygen not built (valgrind/memcheck.h missing?)"; exit 1; }
  valgrind -q --error-exitcode=42 --track-origins=yes "$WORK/release/tests/cpp/fss_ct_keygen"
  # Negative control: a deliberate branch on alpha must be reported, or the check is blind.
  set +e
  valgrind -q --error-exitcode=42 "$WORK/release/tests/cpp/fss_ct_keygen" --leaky >"$WORK/ct_leaky.log" 2>&1
  rc=$?
  set -e
  if [[ $rc -ne 42 ]] || ! grep -q "depends on uninitialised" "$WORK/ct_leaky.log"; then
    echo "constant-time check is blind: the deliberate secret branch was not reported (rc $rc)"; cat "$WORK/ct_leaky.log"; exit 1
  fi
  echo "negative control: the deliberate secret-dependent branch was reported"
fi

step "2. Install into $WORK/prefix"
"$CMAKE" --install "$WORK/release" --prefix "$WORK/prefix" >/dev/null
test -f "$WORK/prefix/include/fsskernels/c_api.h"
ls "$WORK"/prefix/lib*/cmake/fsskernels/fsskernelsConfig.cmake >/dev/null

step "3. examples/cpp_consumer with find_package(fsskernels)"
"$CMAKE" -S "$ROOT/examples/cpp_consumer" -B "$WORK/consumer-installed" "${GEN[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$WORK/prefix" >/dev/null
"$CMAKE" --build "$WORK/consumer-installed" -j "$JOBS"
"$WORK/consumer-installed/fss_consumer"
"$WORK/consumer-installed/fss_consumer_c"
"$WORK/consumer-installed/fss_consumer" --write-keys "$WORK/keys.bin" --scheme dcf --bits 64 --out-bits 64 --count 64 --seed 7
"$WORK/consumer-installed/fss_consumer" --eval-keys "$WORK/keys.bin"

step "4. examples/cpp_consumer with add_subdirectory(<fsskernels>)"
"$CMAKE" -S "$ROOT/examples/cpp_consumer" -B "$WORK/consumer-subdir" "${GEN[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DUSE_SUBDIRECTORY=ON "${COMMON[@]}" >/dev/null
"$CMAKE" --build "$WORK/consumer-subdir" -j "$JOBS"
"$WORK/consumer-subdir/fss_consumer" --n 500
"$WORK/consumer-subdir/fss_consumer_c"

if [[ "${FSS_SKIP_SANITIZE:-0}" != 1 ]]; then
  step "5. AddressSanitizer + UndefinedBehaviorSanitizer"
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
  # LeakSanitizer cannot run where ptrace is forbidden (some containers): probe it and fall
  # back to detect_leaks=0 there, saying so.
  printf 'int main(void){return 0;}\n' >"$WORK/lsan_probe.c"
  if cc -fsanitize=address "$WORK/lsan_probe.c" -o "$WORK/lsan_probe" 2>/dev/null &&
      ! "$WORK/lsan_probe" 2>&1 | grep -q "LeakSanitizer has encountered a fatal error"; then
    echo "LeakSanitizer: on"
  else
    echo "NOTE: LeakSanitizer does not work in this environment; running with detect_leaks=0"
    export ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}
  fi
  "$CMAKE" -S "$ROOT" -B "$WORK/sanitize" "${GEN[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFSS_SANITIZE=ON \
    -DFSS_BUILD_TESTS=ON "${COMMON[@]}" >/dev/null
  "$CMAKE" --build "$WORK/sanitize" -j "$JOBS"
  "$CTEST" --test-dir "$WORK/sanitize" --output-on-failure
  # The example, linked against the instrumented library (installed), instrumented itself.
  "$CMAKE" --install "$WORK/sanitize" --prefix "$WORK/prefix-sanitize" >/dev/null
  "$CMAKE" -S "$ROOT/examples/cpp_consumer" -B "$WORK/consumer-sanitize" "${GEN[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$WORK/prefix-sanitize" \
    -DCMAKE_C_FLAGS="$SAN_FLAGS" -DCMAKE_CXX_FLAGS="$SAN_FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
  "$CMAKE" --build "$WORK/consumer-sanitize" -j "$JOBS"
  "$WORK/consumer-sanitize/fss_consumer" --n 300
  "$WORK/consumer-sanitize/fss_consumer_c"
  "$WORK/consumer-sanitize/fss_consumer" --write-keys "$WORK/keys-san.bin" --scheme dpf --bits 20 --out-bits 8 --count 40 --seed 3
  "$WORK/consumer-sanitize/fss_consumer" --eval-keys "$WORK/keys-san.bin"
  "$WORK/consumer-sanitize/fss_consumer" --eval-keys "$WORK/keys.bin"
  # A corrupted key file must be rejected cleanly (exit 1, message), not crash.
  cp "$WORK/keys.bin" "$WORK/keys-bad.bin"
  off=$(( $(stat -c %s "$WORK/keys-bad.bin") - 100 ))
  byte=$(od -An -tu1 -j "$off" -N1 "$WORK/keys-bad.bin" | tr -d ' ')
  printf "$(printf '\\%03o' $(( byte ^ 1 )))" | dd of="$WORK/keys-bad.bin" bs=1 seek="$off" conv=notrunc status=none
  set +e
  "$WORK/consumer-sanitize/fss_consumer" --eval-keys "$WORK/keys-bad.bin" 2>"$WORK/bad.err"
  rc=$?
  set -e
  if [[ $rc -ne 1 ]] || ! grep -q "keys:" "$WORK/bad.err"; then
    echo "corrupted key file: expected exit 1 with a 'keys:' message, got $rc:"; cat "$WORK/bad.err"; exit 1
  fi
  echo "corrupted key file rejected: $(cat "$WORK/bad.err")"
fi

step "all C++ checks passed"
if [[ -z "${FSS_CHECK_DIR:-}" && "${FSS_KEEP:-0}" != 1 ]]; then rm -rf "$WORK"; fi
