#!/usr/bin/env bash
# Event->notification latency (issue 11): through `release` (in process) and through the releaser daemon (a real
# process), 100 Snapshots each (BENCH_N), against the real registry and the local GitHub fake. About 30 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json >/dev/null
exec npx vitest run --config bench/notify/vitest.config.ts
