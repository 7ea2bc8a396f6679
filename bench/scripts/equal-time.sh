#!/usr/bin/env bash
# Equal wall-clock comparison of the orthogonalization schemes (issue 14, item 1): for each seed, the schemes
# train MNIST-Small with the paper's protocol CONCURRENTLY (same machine load) under `--time-budget`, then each
# run's best checkpoint is certified on the 10,000 test images (float-sound default). Resumable: a run whose
# certify.json exists is skipped; a half-finished train is restarted with --force.
#   bench/scripts/equal-time.sh OUT_DIR [BUDGET_SECONDS=600] [SEEDS="0 1 2"] [SCHEMES="projected reference reference-gram"]
# Needs the built CLI (pnpm --filter @lipschitz/robustness-app build; ROBUSTNESS_CLI=path/to/cli.js overrides). Logs: OUT_DIR/<scheme>-s<seed>.log
set -euo pipefail
out=${1:?usage: equal-time.sh OUT_DIR [BUDGET] [SEEDS] [SCHEMES]}
budget=${2:-600}
seeds=${3:-0 1 2}
schemes=${4:-projected reference reference-gram}
cli="node ${ROBUSTNESS_CLI:-$(dirname "$0")/../../apps/robustness/dist/cli.js}"
mkdir -p "$out"
for seed in $seeds; do
  pids=()
  echo "seed $seed: $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/progress.log"
  for scheme in $schemes; do
    dir="$out/$scheme-s$seed"
    [ -f "$dir/certify.json" ] && continue
    $cli train --preset mnist-small --orthogonalizer "$scheme" --time-budget "$budget" --seed "$seed" --out "$dir" --force \
      > "$out/$scheme-s$seed.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  for scheme in $schemes; do
    dir="$out/$scheme-s$seed"
    [ -f "$dir/certify.json" ] || $cli certify --run "$dir" >> "$out/$scheme-s$seed.log" 2>&1
    rm -rf "$dir/checkpoints"
  done
  echo "seed $seed done: $(date -u +%FT%TZ)" | tee -a "$out/progress.log"
done
