import { expect } from 'vitest'
import type { FakeIssue, FakeRepo } from '../harness/github-fake.js'
import type { TestRegistry } from '../harness/registry.js'
import { runCli } from './cli.js'

/** Gives `repo` the Dependency Dashboard of the hosted Renovate app, its run-again box unticked; returns the issue. */
export function addRenovateDashboard(repo: FakeRepo): FakeIssue {
  const issue: FakeIssue = {
    number: repo.nextNumber++,
    title: 'Dependency Dashboard',
    body: '- [ ] <!-- manual job -->Check this box to trigger a request for Renovate to run again on this repository\n',
    state: 'open',
    labels: [],
    user: 'renovate[bot]',
  }
  repo.issues.push(issue)
  return issue
}

/**
 * The GitOps repo a notification is about: each component's image `registry.host/<imagePath>/<component>` gets a
 * first build tagged `:released`, and `init --pin` writes `dir` pinned to those digests. Returns the image names.
 */
export async function initPinnedGitops(
  registry: TestRegistry,
  dir: string,
  imagePath: string,
  components: readonly string[],
): Promise<(component: string) => string> {
  const image = (c: string) => `${registry.host}/${imagePath}/${c}`
  for (const c of components) {
    await registry.moveTag(`${imagePath}/${c}`, 'released', await registry.pushImage(`${imagePath}/${c}`, 'build-1'))
  }
  const init = await runCli(
    [
      'init',
      dir,
      '--app',
      'shop',
      ...components.flatMap((c) => ['--component', `${c}=${image(c)}`]),
      '--ci',
      'none',
      '--pin',
    ],
    { env: registry.env },
  )
  expect(init.exitCode, init.stderr).toBe(0)
  return image
}
