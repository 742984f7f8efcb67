import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { type GitHubFake, startGitHubFake } from '../harness/github-fake.js'

/**
 * One fake GitHub for all tests of a file: started before them, stopped after them, and every test must leave it
 * without requests that break the OpenAPI shapes. Returns a getter because the fake exists only once beforeAll ran.
 */
export function sharedGitHubFake(): () => GitHubFake {
  let fake: GitHubFake | undefined
  beforeAll(async () => {
    fake = await startGitHubFake()
  })
  afterAll(async () => {
    await fake?.stop()
  })
  afterEach(() => {
    expect(fake!.state.violations).toEqual([])
  })
  return () => fake!
}
