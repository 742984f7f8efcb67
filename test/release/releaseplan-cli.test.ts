import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { ROOT, runCli, schemaErrors } from '../helpers/cli.js'

describe('konflux-gitops releaseplan', () => {
  test('prints a ReleasePlan wired to a tenant pipeline that runs release, plus the RBAC it needs', async () => {
    const result = await runCli([
      'releaseplan',
      '--application',
      'shop',
      '--tag',
      'released',
      '--tag',
      '{{ git_short_sha }}',
      '--pipeline-repo',
      'https://github.com/acme/shop-gitops.git',
    ])
    expect(result.exitCode, result.stderr).toBe(0)
    const docs = parseAllDocuments(result.stdout).map((d) => d.toJS())
    expect(docs.map((d) => d.kind)).toEqual(['ReleasePlan', 'ServiceAccount', 'Role', 'RoleBinding', 'Pipeline'])
    const plan = docs[0]
    expect(plan.metadata.labels['release.appstudio.openshift.io/auto-release']).toBe('true')
    expect(plan.spec.application).toBe('shop')
    expect(plan.spec.data.mapping.defaults.tags).toEqual(['released', '{{ git_short_sha }}'])
    expect(plan.spec.tenantPipeline.pipelineRef.params).toContainEqual({
      name: 'url',
      value: 'https://github.com/acme/shop-gitops.git',
    })
    const script = docs[4].spec.tasks[0].taskSpec.steps[0].script as string
    // The konflux-gitops image of this version runs it: nothing is installed at run time.
    expect(script).toMatch(/^DOCKER_CONFIG=\/docker-config konflux-gitops release /m)
    expect(docs[4].spec.tasks[0].taskSpec.steps[0].image).toMatch(
      /^quay\.io\/konflux-gitops\/konflux-gitops:\d+\.\d+\.\d+/,
    )
    expect(script).toMatch(/--mapping \/tmp\/releaseplan\.json/)
    // Tekton keeps at most 4096 bytes of results: the result gets the compact summary, the log the full report.
    expect(script).toMatch(/--json --result-file "\$\(results\.report\.path\)"/)
    expect(script).not.toMatch(/> "\$\(results\.report\.path\)"/)
    expect(docs[2].rules[0].resources).toEqual(['snapshots', 'releaseplans'])
  })

  test('--json matches its schema; a bad application name is a usage error', async () => {
    const result = await runCli(['releaseplan', '--application', 'shop', '--json'])
    expect(result.exitCode).toBe(0)
    expect(await schemaErrors('releaseplan', result.json)).toEqual([])
    const bad = await runCli(['releaseplan', '--application', 'Shop_App'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/--application "Shop_App" is not a Konflux application name/)
  })

  test('--component-group writes a ReleasePlan for a ComponentGroup; exactly one of the two is required', async () => {
    const result = await runCli(['releaseplan', '--component-group', 'shop-group', '--json'])
    expect(result.exitCode, result.stderr).toBe(0)
    expect(await schemaErrors('releaseplan', result.json)).toEqual([])
    const plan = (result.json as { documents: { spec: Record<string, unknown> }[] }).documents[0]!
    expect(plan.spec.componentGroup).toBe('shop-group')
    expect(plan.spec).not.toHaveProperty('application')
    const both = await runCli(['releaseplan', '--application', 'shop', '--component-group', 'g'])
    expect(both.exitCode).toBe(2)
    const neither = await runCli(['releaseplan'])
    expect(neither.exitCode).toBe(2)
  })

  test('the tenant Pipeline declares exactly the params and workspace release-service starts it with', async () => {
    // release-service's tenant PipelineRun (controllers/release/adapter.go createTenantPipelineRun): params
    // release, releasePlan and snapshot from the object references, plus the ReleasePlan's tenantPipeline.params
    // (none here), and one workspace named DEFAULT_RELEASE_WORKSPACE_NAME, release-workspace.
    const result = await runCli(['releaseplan', '--application', 'shop', '--namespace', 'acme-tenant'])
    expect(result.exitCode, result.stderr).toBe(0)
    const docs = parseAllDocuments(result.stdout).map((d) => d.toJS())
    expect(docs[0].spec.tenantPipeline.params).toBeUndefined()
    const pipeline = docs[4].spec
    expect(pipeline.params.map((p: { name: string }) => p.name).sort()).toEqual(['release', 'releasePlan', 'snapshot'])
    expect(pipeline.workspaces.map((w: { name: string }) => w.name)).toEqual(['release-workspace'])
    // The full report lands in that workspace too (the 4096-byte result holds only the summary).
    expect(pipeline.tasks[0].workspaces).toEqual([{ name: 'data', workspace: 'release-workspace' }])
    expect(pipeline.tasks[0].taskSpec.steps[0].script).toContain('| tee "$(workspaces.data.path)/report.json"')
    // Every namespaced object (and the RoleBinding's subject) in the tenant namespace.
    expect(docs.slice(0, 4).map((d) => d.metadata.namespace)).toEqual(Array(4).fill('acme-tenant'))
    expect(docs[3].subjects[0].namespace).toBe('acme-tenant')
  })

  test('is the template scaffolds/releaseplan/releaseplan.yaml filled in, comments kept', async () => {
    const template = await readFile(join(ROOT, 'scaffolds/releaseplan/releaseplan.yaml'), 'utf8')
    const result = await runCli(['releaseplan', '--application', 'shop', '--namespace', 'acme-tenant'])
    for (const line of template.split('\n').filter((l) => l.trim().startsWith('#') && !l.includes('${'))) {
      expect(result.stdout).toContain(line)
    }
    // A flag value that would break out of its YAML scalar or a comment is refused, nothing printed.
    const injected = await runCli([
      'releaseplan',
      '--application',
      'shop',
      '--pipeline-repo',
      'https://x\nkind: Secret',
    ])
    expect(injected.exitCode).toBe(2)
    expect(injected.stderr).toContain('--pipeline-repo')
    expect(injected.stdout).toBe('')
    const badAccount = await runCli(['releaseplan', '--application', 'shop', '--service-account', 'a: b'])
    expect(badAccount.exitCode).toBe(2)
    expect(badAccount.stderr).toContain('is not a Kubernetes object name')
  })
})
