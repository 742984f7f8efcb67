import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real servers (registry, git http-backend); two cores on CI.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    // @actions/workflow-parser imports its schema JSON without `with { type: 'json' }`, which Node refuses:
    // let Vite transform it instead.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
})
