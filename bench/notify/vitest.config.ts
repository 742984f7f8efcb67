import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/** Event→notification latency (release and releaser daemon): bench/notify/run.sh, or `npx vitest run --config bench/notify/vitest.config.ts` (BENCH_N, default 100). */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['bench/notify/*.bench-run.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
})
