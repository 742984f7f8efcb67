#!/usr/bin/env bash
# Full-size releaser soak (issue 7): 10,000 events over 200 components, faults + kill -9, against the same workload
# with faults off. Prints events/s, event->tag p50/p99 and the faulty/clean ratio. About 7 minutes on 2 cores.
#   bench/releaser/run.sh            KG_SOAK_EVENTS=2000 KG_SOAK_COMPONENTS=50 bench/releaser/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent build >/dev/null
exec npx vitest run --config bench/releaser/vitest.config.ts
