#!/usr/bin/env bash
# Runs the test suite four times, each imitating another CPU's rounding, and prints each run's summary line.
# Any x86 machine can apply these to itself; a test that passes on one CPU only fails here.
#
#   1. as is                          this CPU's own kernels
#   2. OMP_NUM_THREADS=1              single-threaded reductions (another summation order)
#   3. AVX2 only                      close to an AVX2-only CPU (AMD Zen 3, older Xeons)
#   4. default kernels, MKL CBWR      ATen's portable kernels and MKL's vendor-neutral code path
#
# Usage: scripts/test_any_cpu.sh [pytest args]   (uses `python` on PATH, e.g. an activated venv)
set -uo pipefail
cd "$(dirname "$0")/.."
settings=(
    ""
    "OMP_NUM_THREADS=1"
    "ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2"
    "ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE"
)
log=$(mktemp -d)
status=0
for i in "${!settings[@]}"; do
    # shellcheck disable=SC2086  # each setting is a list of VAR=value words
    env ${settings[$i]} python -m pytest -q -p no:cacheprovider "${@:-tests}" > "$log/$i.txt" 2>&1 || status=1
    printf '%d. %-80s %s\n' "$((i + 1))" "${settings[$i]:-as is}" "$(tail -n 1 "$log/$i.txt")"
done
[ "$status" = 0 ] || echo "full logs: $log" >&2
exit "$status"
