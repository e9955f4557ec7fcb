#!/usr/bin/env bash
# `npm test`: install what is missing (so CI works on a fresh clone), build, register the kernel,
# then run every test with node's built-in test runner.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

bash scripts/setup.sh

shopt -s nullglob
tests=(test/*.test.ts)
if [[ ${#tests[@]} -eq 0 ]]; then
  echo "test: no test files in test/" >&2
  exit 1
fi
# One test file per core, at most 4 (node's default leaves one core idle: on 2 cores it ran them
# one at a time; more than 4 Chromium and Jupyter tests at once only crowd the memory). Most of the
# time goes to notebook kernels, Jupyter and Chromium in other processes.
jobs=$(nproc)
if ((jobs > 4)); then jobs=4; fi
# Race diagrams take COLUMNS as their width; the tests expect the 75 columns of output to a file.
unset COLUMNS
exec node --import tsx --test --test-concurrency="$jobs" "${tests[@]}"
