#!/usr/bin/env bash
# `npm start`: install what is missing, build, register the kernel, execute every
# notebooks/*.ipynb headless (executed copies in reports/), and render each executed notebook to
# reports/<name>.html and .pdf. Prints the report paths. Idempotent: a second run gives the same
# reports apart from their date stamp.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

bash scripts/setup.sh

shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [[ ${#notebooks[@]} -eq 0 ]]; then
  echo "start: no notebooks in notebooks/; nothing to run" >&2
  exit 0
fi

# (--v8-pool-size=0: as the racelab bin starts node; src/engine/v8-tuning.ts)
racelab=(node --v8-pool-size=0 dist/cli/main.js)
status=0
executed_list="$("${racelab[@]}" run "${notebooks[@]}")" || status=$?
if [[ $status -ne 0 && $status -ne 1 ]]; then
  exit "$status"
fi
executed=()
while IFS= read -r line; do
  if [[ -n $line ]]; then executed+=("$line"); fi
done <<<"$executed_list"

if [[ ${#executed[@]} -gt 0 ]]; then
  reports="$("${racelab[@]}" report --html --pdf --mail "${executed[@]}")"
  # Then an archive per notebook: the executed copy, its recorded results and its reports.
  for nb in "${executed[@]}"; do
    reports+=$'\n'"$("${racelab[@]}" archive "$nb")"
  done
  echo "Reports:"
  while IFS= read -r line; do
    if [[ -n $line ]]; then echo "  $line"; fi
  done <<<"$reports"
fi
if [[ ${#executed[@]} -gt 0 ]]; then
  echo
  node scripts/summary.mjs reports
fi
if [[ $status -ne 0 ]]; then
  echo "start: some notebooks failed (see above); their reports were not rebuilt" >&2
fi
exit "$status"
