import { readFile } from 'node:fs/promises'
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { expect, test } from 'vitest'
import { parse } from 'yaml'
import { DISPATCH_EVENT_TYPE, renovateRunnerReadme, renovateRunnerWorkflow } from '../../src/notify/index.js'
import { dependabotRegistries } from '../../src/scaffold/updaters.js'
import { repoSpec } from '../../src/spec/index.js'
import { runCli, withTempDir } from '../helpers/cli.js'

const expr = (expression: string) => `\${{ ${expression} }}`

const spec = repoSpec.parse({
  apiVersion: 'konflux-gitops.dev/v1alpha1',
  kind: 'GitOpsRepo',
  app: 'shop',
  components: [
    { name: 'api', image: 'quay.io/acme/shop/api' },
    { name: 'web', image: 'registry.example.com:5000/acme/web' },
  ],
  environments: [{ name: 'dev' }, { name: 'prod' }],
})

test('the Renovate runner workflow is one GitHub accepts, and starts on schedule, by hand and on the release event', () => {
  const text = renovateRunnerWorkflow(dependabotRegistries(spec))
  const parsed = parseWorkflow({ name: 'renovate.yaml', content: text }, new NoOperationTraceWriter())
  expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([])
  const workflow = parse(text)
  expect(Object.keys(workflow.on)).toEqual(['schedule', 'workflow_dispatch', 'repository_dispatch'])
  expect(workflow.on.repository_dispatch.types).toEqual([DISPATCH_EVENT_TYPE])
  const env = workflow.jobs.renovate.steps[1].env
  expect(env.RENOVATE_REPOSITORIES).toBe(expr('github.repository'))
  expect(JSON.parse(env.RENOVATE_HOST_RULES)).toEqual([
    {
      hostType: 'docker',
      matchHost: 'quay.io',
      username: expr('secrets.REGISTRY_QUAY_IO_USERNAME'),
      password: expr('secrets.REGISTRY_QUAY_IO_PASSWORD'),
    },
    {
      hostType: 'docker',
      matchHost: 'registry.example.com:5000',
      username: expr('secrets.REGISTRY_REGISTRY_EXAMPLE_COM_5000_USERNAME'),
      password: expr('secrets.REGISTRY_REGISTRY_EXAMPLE_COM_5000_PASSWORD'),
    },
  ])
  // Every secret the workflow reads is named in the README section.
  const readme = renovateRunnerReadme(dependabotRegistries(spec))
  for (const secret of text.matchAll(/secrets\.([A-Z0-9_]+)/g)) expect(readme).toContain(`\`${secret[1]}\``)
})

test('init --renovate-runner github-actions writes the workflow and names its secrets in the README', async () => {
  await withTempDir(async (dir) => {
    const result = await runCli([
      'init',
      `${dir}/demo`,
      '--app',
      'shop',
      '--component',
      'api=quay.io/acme/shop/api',
      '--ci',
      'none',
      '--renovate-runner',
      'github-actions',
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    const workflow = await readFile(`${dir}/demo/.github/workflows/renovate.yaml`, 'utf8')
    const parsed = parseWorkflow({ name: 'renovate.yaml', content: workflow }, new NoOperationTraceWriter())
    expect(parsed.context.errors.getErrors()).toEqual([])
    const readme = await readFile(`${dir}/demo/README.md`, 'utf8')
    expect(readme).toContain('`REGISTRY_QUAY_IO_PASSWORD`')
    expect(readme).toContain('`RENOVATE_TOKEN`')
    expect(await readFile(`${dir}/demo/konflux-gitops.yaml`, 'utf8')).toContain('renovateRunner: github-actions')
  })
})
