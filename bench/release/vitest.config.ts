import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/** Retag benches that need the test harness (registry + fault proxy): `npx vitest run --config bench/release/vitest.config.ts`. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['bench/release/*.bench-run.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
})
