import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/** Full-size releaser soak: `npx vitest run --config bench/releaser/vitest.config.ts` (after a build). */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['bench/releaser/*.bench-run.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
})
