/**
 * Every validate rule on every repo shape (kustomize | helm) x (renovate | dependabot): each shape is created by the
 * real `init` (real git), each rule gets a failing fixture per shape where it applies, and a cell where it cannot
 * apply says why. The fixtures edit the files init wrote, the way a user would, and the finding must name the file
 * and the line.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import {
  checkTree,
  type Finding,
  memoryTree,
  RULES,
  type RuleId,
  readRepoTree,
  type TreeEntry,
  validateRepository,
} from '../../src/validate/index.js'
import { kubeTools } from '../harness/kube-tools.js'
import { runCli } from '../helpers/cli.js'

const run = promisify(execFile)

type ShapeId = 'kustomize+renovate' | 'kustomize+dependabot' | 'helm+renovate' | 'helm+dependabot'
const SHAPE_IDS: ShapeId[] = ['kustomize+renovate', 'kustomize+dependabot', 'helm+renovate', 'helm+dependabot']
type Files = Record<string, string | TreeEntry>

const API = 'quay.io/acme/shop/api'
const DIGEST = `sha256:${'a'.repeat(64)}`
const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`
const SPEC = 'konflux-gitops.yaml'
const APPSET = 'argocd/applicationset.yaml'

const isHelm = (shape: ShapeId) => shape.startsWith('helm')
const isDependabot = (shape: ShapeId) => shape.endsWith('dependabot')

function text(files: Files, file: string): string {
  const entry = files[file]
  if (typeof entry !== 'string') throw new Error(`fixture: ${file} is not a text file of the shape`)
  return entry
}

function replace(files: Files, file: string, from: string | RegExp, to: string): void {
  const before = text(files, file)
  const after = before.replace(from, to)
  if (after === before) throw new Error(`fixture: "${String(from)}" not in ${file}`)
  files[file] = after
}

/** The file holding the api pin of an environment, per shape. */
function pinFile(shape: ShapeId, env = 'prod'): string {
  if (isHelm(shape)) return `environments/${env}/values.yaml`
  return isDependabot(shape) ? `environments/${env}/images/api.yaml` : `environments/${env}/kustomization.yaml`
}

interface PinEdit {
  /** Repository as the user writes it (default: the component's). */
  repository?: string
  /** Tag as written (may carry @digest); null removes it. */
  tag?: string | null
  /** A separate digest key beside the tag (kustomize digest:, Helm image.digest); not on the patch shape. */
  digestKey?: string
}

/** Rewrite the api pin of `env` as a user would, and say which text the lines holding repository and tag carry. */
function editPin(
  files: Files,
  shape: ShapeId,
  edit: PinEdit,
  env = 'prod',
): { repositoryLine: string; tagLine: string } {
  const repository = edit.repository ?? API
  const tag = edit.tag === undefined ? 'released' : edit.tag
  const file = pinFile(shape, env)
  if (isHelm(shape)) {
    const lines = [`      repository: ${repository}`]
    if (tag !== null) lines.push(`      tag: "${tag}"`)
    if (edit.digestKey) lines.push(`      digest: "${edit.digestKey}"`)
    replace(files, file, `      repository: ${API}\n      tag: "released"`, lines.join('\n'))
    return {
      repositoryLine: `repository: ${repository}`,
      // Without a tag, the finding points at the component entry.
      tagLine: tag === null ? '  api:' : `tag: "${tag}"`,
    }
  }
  if (isDependabot(shape)) {
    if (edit.digestKey) throw new Error('fixture: an image patch has no separate digest key')
    const image = `${repository}${tag === null ? '' : `:${tag}`}`
    replace(files, file, `image: ${API}:released`, `image: ${image}`)
    return { repositoryLine: `image: ${image}`, tagLine: `image: ${image}` }
  }
  const lines = [`  - name: ${API}`]
  if (repository !== API) lines.push(`    newName: ${repository}`)
  if (tag !== null) lines.push(`    newTag: ${tag}`)
  if (edit.digestKey) lines.push(`    digest: ${edit.digestKey}`)
  replace(files, file, `  - name: ${API}\n    newTag: released`, lines.join('\n'))
  return {
    repositoryLine: repository === API ? `- name: ${API}` : `newName: ${repository}`,
    tagLine: tag === null ? `- name: ${API}` : `newTag: ${tag}`,
  }
}

interface Cell {
  edit(files: Files, shape: ShapeId): { file: string; lineWith: string | null }
  /** Run with a digest resolver (the --against-registry rules). */
  resolve?: (reference: string) => Promise<string>
  /** Run with a signature verifier (--against-registry --verify-key). */
  verify?: (image: { registry: string; path: string; digest: string }) => Promise<{ signed: boolean; summary: string }>
  /** Run on disk with real kustomize/helm (--build). */
  build?: boolean
}
type NotApplicable = { na: string }
type RuleRow = Record<ShapeId, Cell | NotApplicable>

const everywhere = (cell: Cell): RuleRow => Object.fromEntries(SHAPE_IDS.map((shape) => [shape, cell])) as RuleRow
const kustomizeOnly = (cell: Cell, why: string): RuleRow => ({
  'kustomize+renovate': cell,
  'kustomize+dependabot': cell,
  'helm+renovate': { na: why },
  'helm+dependabot': { na: why },
})
const helmOnly = (cell: Cell, why: string): RuleRow => ({
  'kustomize+renovate': { na: why },
  'kustomize+dependabot': { na: why },
  'helm+renovate': cell,
  'helm+dependabot': cell,
})
const renovateOnly = (cell: Cell): RuleRow => ({
  'kustomize+renovate': cell,
  'helm+renovate': cell,
  'kustomize+dependabot': { na: 'updater: dependabot has no Renovate config to check' },
  'helm+dependabot': { na: 'updater: dependabot has no Renovate config to check' },
})
const dependabotOnly = (cell: Cell): RuleRow => ({
  'kustomize+dependabot': cell,
  'helm+dependabot': cell,
  'kustomize+renovate': { na: 'updater: renovate has no .github/dependabot.yml' },
  'helm+renovate': { na: 'updater: renovate has no .github/dependabot.yml' },
})

/** The renovate.json of a Renovate shape with `patch` merged in. */
function renovate(files: Files, patch: Record<string, unknown>): void {
  const config = JSON.parse(text(files, 'renovate.json')) as Record<string, unknown>
  files['renovate.json'] = `${JSON.stringify({ ...config, ...patch }, null, 2)}\n`
}

const MATRIX: Record<RuleId, RuleRow> = {
  'file-unreadable': everywhere({
    edit: (f) => {
      f['argocd/logo.yaml'] = { kind: 'unreadable', reason: 'binary file (contains NUL bytes), not YAML/JSON text' }
      return { file: 'argocd/logo.yaml', lineWith: null }
    },
  }),
  'symlink-outside': everywhere({
    edit: (f) => {
      f['argocd/extra.yaml'] = { kind: 'symlink-outside', target: '/etc/hostname' }
      return { file: 'argocd/extra.yaml', lineWith: null }
    },
  }),
  'yaml-syntax': everywhere({
    edit: (f) => {
      replace(f, APPSET, 'kind: ApplicationSet\n', 'kind: ApplicationSet\n  bad: [\n')
      return { file: APPSET, lineWith: null }
    },
  }),
  'yaml-duplicate-key': everywhere({
    edit: (f) => {
      replace(f, APPSET, '  name: shop\n', '  name: shop\n  name: shop2\n')
      return { file: APPSET, lineWith: 'name: shop2' }
    },
  }),
  'yaml-alias-limit': everywhere({
    edit: (f) => {
      const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
      for (let i = 1; i < 9; i++) {
        lines.push(
          `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(96 + i)}`)
            .join(',')}]`,
        )
      }
      f['argocd/bomb.yaml'] = `${lines.join('\n')}\n`
      return { file: 'argocd/bomb.yaml', lineWith: 'a: &a' }
    },
  }),
  'spec-missing': everywhere({
    edit: (f) => {
      delete f[SPEC]
      return { file: SPEC, lineWith: null }
    },
  }),
  'spec-invalid': everywhere({
    edit: (f) => {
      replace(f, SPEC, 'tag: released', 'tag: "not a tag!"')
      return { file: SPEC, lineWith: 'tag: "not a tag!"' }
    },
  }),
  'component-base-missing': kustomizeOnly(
    {
      edit: (f) => {
        delete f['components/web/base/kustomization.yaml']
        return { file: SPEC, lineWith: '- name: web' }
      },
    },
    'a Helm repo has no per-component base: the chart ranges over components:',
  ),
  'environment-missing': everywhere({
    edit: (f, shape) => {
      delete f[isHelm(shape) ? 'environments/stage/values.yaml' : 'environments/stage/kustomization.yaml']
      return { file: SPEC, lineWith: '- name: stage' }
    },
  }),
  'stray-overlay': everywhere({
    edit: (f, shape) => {
      const file = isHelm(shape) ? 'environments/qa/values.yaml' : 'environments/qa/kustomization.yaml'
      f[file] = isHelm(shape) ? 'components: {}\n' : text(f, 'environments/dev/kustomization.yaml')
      return { file, lineWith: null }
    },
  }),
  'argocd-path-missing': everywhere({
    edit: (f, shape) => {
      if (isHelm(shape)) {
        replace(f, APPSET, 'path: charts/shop', 'path: charts/nope')
        return { file: APPSET, lineWith: 'path: charts/nope' }
      }
      replace(f, APPSET, 'path: environments/*', 'path: envs/*')
      return { file: APPSET, lineWith: 'path: envs/*' }
    },
  }),
  'kustomization-invalid': kustomizeOnly(
    {
      edit: (f) => {
        replace(
          f,
          'environments/dev/kustomization.yaml',
          'resources:\n',
          'resources: ../../components/api/base\nold:\n',
        )
        return { file: 'environments/dev/kustomization.yaml', lineWith: 'resources: ../../components' }
      },
    },
    'a Helm repo has no kustomization; its values file shape is helm-values-invalid',
  ),
  'kustomize-path-missing': kustomizeOnly(
    {
      edit: (f) => {
        replace(f, 'environments/dev/kustomization.yaml', '- ../../components/web/base', '- ../../components/gone/base')
        return { file: 'environments/dev/kustomization.yaml', lineWith: 'components/gone/base' }
      },
    },
    'a Helm repo has no kustomization paths; Argo CD paths are argocd-path-missing',
  ),
  'kustomize-cycle': kustomizeOnly(
    {
      edit: (f) => {
        replace(
          f,
          'components/api/base/kustomization.yaml',
          'resources:\n',
          'resources:\n  - ../../../environments/dev\n',
        )
        return { file: 'components/api/base/kustomization.yaml', lineWith: 'environments/dev' }
      },
    },
    'a Helm repo has no kustomizations to include each other',
  ),
  'kustomize-image-missing': {
    'kustomize+renovate': {
      edit: (f) => {
        replace(
          f,
          'environments/prod/kustomization.yaml',
          / {2}- name: quay\.io\/acme\/shop\/web\n {4}newTag: released\n/,
          '',
        )
        return { file: 'environments/prod/kustomization.yaml', lineWith: 'images:' }
      },
    },
    'kustomize+dependabot': {
      // The overlay no longer patches web: the untagged base image would deploy.
      edit: (f) => {
        replace(f, 'environments/prod/kustomization.yaml', '  - path: images/web.yaml\n', '')
        return { file: 'environments/prod/kustomization.yaml', lineWith: 'patches:' }
      },
    },
    'helm+renovate': {
      edit: (f) => {
        replace(f, 'environments/prod/values.yaml', / {2}web:\n( {4}.*\n)+/, '')
        return { file: 'environments/prod/values.yaml', lineWith: 'components:' }
      },
    },
    'helm+dependabot': {
      edit: (f) => {
        replace(f, 'environments/prod/values.yaml', / {2}web:\n( {4}.*\n)+/, '')
        return { file: 'environments/prod/values.yaml', lineWith: 'components:' }
      },
    },
  },
  'image-tag-and-digest': {
    'kustomize+renovate': {
      edit: (f, shape) => {
        editPin(f, shape, { digestKey: DIGEST })
        return { file: pinFile(shape), lineWith: `digest: ${DIGEST}` }
      },
    },
    'kustomize+dependabot': { na: 'an image patch is one image: string; there is no separate digest key to set' },
    'helm+renovate': {
      edit: (f, shape) => {
        editPin(f, shape, { digestKey: DIGEST })
        return { file: pinFile(shape), lineWith: `digest: "${DIGEST}"` }
      },
    },
    'helm+dependabot': {
      edit: (f, shape) => {
        editPin(f, shape, { digestKey: DIGEST })
        return { file: pinFile(shape), lineWith: `digest: "${DIGEST}"` }
      },
    },
  },
  'image-digest-format': everywhere({
    edit: (f, shape) => ({ file: pinFile(shape), lineWith: editPin(f, shape, { tag: 'released@sha256:zzz' }).tagLine }),
  }),
  'image-latest': everywhere({
    edit: (f, shape) => ({ file: pinFile(shape), lineWith: editPin(f, shape, { tag: 'latest' }).tagLine }),
  }),
  'image-untagged': everywhere({
    edit: (f, shape) => ({ file: pinFile(shape), lineWith: editPin(f, shape, { tag: null }).tagLine }),
  }),
  'image-tag-policy': everywhere({
    edit: (f, shape) => ({ file: pinFile(shape), lineWith: editPin(f, shape, { tag: 'candidate' }).tagLine }),
  }),
  'image-unpinned': everywhere({
    edit: (f, shape) => {
      replace(f, SPEC, 'allowUnpinned: true', 'allowUnpinned: false')
      return { file: pinFile(shape), lineWith: editPin(f, shape, { tag: 'stable-released' }).tagLine }
    },
  }),
  'image-registry-not-allowed': everywhere({
    edit: (f, shape) => ({
      file: pinFile(shape),
      lineWith: editPin(f, shape, { repository: 'quay.io/evil/api' }).repositoryLine,
    }),
  }),
  'k8s-schema': {
    'kustomize+renovate': {
      edit: (f) => {
        replace(f, 'components/api/base/deployment.yaml', 'replicas: 1', 'replicas: "one"')
        return { file: 'components/api/base/deployment.yaml', lineWith: 'replicas: "one"' }
      },
    },
    'kustomize+dependabot': {
      edit: (f) => {
        replace(f, 'components/api/base/deployment.yaml', 'replicas: 1', 'replicas: "one"')
        return { file: 'components/api/base/deployment.yaml', lineWith: 'replicas: "one"' }
      },
    },
    // The chart's templates are Go templates (kustomize-build's `helm template` checks them); a plain manifest in a
    // Helm repo is checked like any other.
    'helm+renovate': {
      edit: (f) => {
        f['argocd/namespace.yaml'] = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-prod\n  labels: 7\n'
        return { file: 'argocd/namespace.yaml', lineWith: 'labels: 7' }
      },
    },
    'helm+dependabot': {
      edit: (f) => {
        f['argocd/namespace.yaml'] = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-prod\n  labels: 7\n'
        return { file: 'argocd/namespace.yaml', lineWith: 'labels: 7' }
      },
    },
  },
  'argocd-schema': everywhere({
    edit: (f) => {
      replace(f, APPSET, '  goTemplate: true\n', '  goTemplate: "yes please"\n')
      return { file: APPSET, lineWith: 'goTemplate: "yes please"' }
    },
  }),
  'renovate-config-missing': renovateOnly({
    edit: (f) => {
      delete f['renovate.json']
      return { file: 'renovate.json', lineWith: null }
    },
  }),
  'renovate-config-invalid': renovateOnly({
    edit: (f) => {
      renovate(f, { rebaseWhen: 'rocket' })
      return { file: 'renovate.json', lineWith: '"rebaseWhen"' }
    },
  }),
  'renovate-config-warning': renovateOnly({
    edit: (f) => {
      renovate(f, { baseBranches: ['main'] })
      return { file: 'renovate.json', lineWith: '"baseBranches"' }
    },
  }),
  // Needs renovate absent, and this test tree has it: test/install/packed.test.ts runs the packed package without it on
  // all four shapes (the note on the Renovate ones, nothing on the Dependabot ones).
  'renovate-not-installed': Object.fromEntries(
    SHAPE_IDS.map((shape) => [shape, { na: 'renovate is installed here; see test/install/packed.test.ts' }]),
  ) as RuleRow,
  'renovate-preset-unresolved': renovateOnly({
    edit: (f) => {
      renovate(f, { extends: ['github>acme/renovate-presets'] })
      return { file: 'renovate.json', lineWith: 'github>acme/renovate-presets' }
    },
  }),
  'renovate-digest-pinning': renovateOnly({
    edit: (f) => {
      const config = JSON.parse(text(f, 'renovate.json')) as { packageRules: Record<string, unknown>[] }
      for (const rule of config.packageRules) delete rule.pinDigests
      f['renovate.json'] = `${JSON.stringify(config, null, 2)}\n`
      return { file: 'renovate.json', lineWith: null }
    },
  }),
  'helm-values-invalid': helmOnly(
    {
      edit: (f) => {
        replace(f, 'environments/dev/values.yaml', / {2}web:\n( {4}.*\n)+/, '  web:\n    replicas: 2\n')
        return { file: 'environments/dev/values.yaml', lineWith: '  web:' }
      },
    },
    'no values file: a kustomize repo pins in kustomizations or image patches',
  ),
  'helm-component-unknown': helmOnly(
    {
      edit: (f) => {
        replace(
          f,
          'environments/prod/values.yaml',
          'components:\n',
          'components:\n  worker:\n    image:\n      repository: quay.io/acme/shop/worker\n      tag: "released"\n',
        )
        return { file: 'environments/prod/values.yaml', lineWith: 'worker:' }
      },
    },
    'no components: map: a kustomize repo deploys what its kustomizations list',
  ),
  'helm-values-ignored': helmOnly(
    {
      edit: (f) => {
        f['environments/prod/values-prod.yaml'] = text(f, 'environments/prod/values.yaml')
        return { file: 'environments/prod/values-prod.yaml', lineWith: null }
      },
    },
    'no chart: a kustomize overlay reads the files its kustomization lists (kustomize-path-missing)',
  ),
  'image-patch-unreferenced': {
    'kustomize+dependabot': {
      edit: (f) => {
        f['environments/prod/images/worker.yaml'] = text(f, 'environments/prod/images/api.yaml').replaceAll(
          'api',
          'worker',
        )
        return { file: 'environments/prod/images/worker.yaml', lineWith: null }
      },
    },
    'kustomize+renovate': { na: 'Renovate pins in images: entries; there are no image patches' },
    'helm+renovate': { na: 'Helm pins in values files; there are no image patches' },
    'helm+dependabot': { na: 'Helm pins in values files; there are no image patches' },
  },
  'dependabot-pin-invisible': dependabotOnly({
    // dependabot.yml no longer lists prod's pin directory: Dependabot is not recursive, so prod never moves.
    edit: (f, shape) => {
      const config = parse(text(f, '.github/dependabot.yml')) as { updates: { directory: string }[] }
      config.updates = config.updates.filter((u) => !u.directory.startsWith('/environments/prod'))
      f['.github/dependabot.yml'] = stringify(config)
      return { file: pinFile(shape), lineWith: null }
    },
  }),
  'kustomize-build': everywhere({
    build: true,
    edit: (f, shape) => {
      if (isHelm(shape)) {
        replace(f, 'environments/dev/values.yaml', / {2}web:\n( {4}.*\n)+/, '  web: {}\n')
        return { file: 'environments/dev/values.yaml', lineWith: null }
      }
      replace(
        f,
        'components/api/base/kustomization.yaml',
        '  - deployment.yaml\n',
        '  - deployment.yaml\n  - missing.yaml\n',
      )
      return { file: 'environments/dev/kustomization.yaml', lineWith: null }
    },
  }),
  'image-drift': everywhere({
    resolve: async () => OTHER_DIGEST,
    edit: (f, shape) => ({ file: pinFile(shape), lineWith: editPin(f, shape, { tag: `released@${DIGEST}` }).tagLine }),
  }),
  'image-unsigned': everywhere({
    // Only the api digest in prod is unsigned; the verifier is src/verify's checkSignature in test/validate.
    verify: async (image) => ({
      signed: !(image.path === 'acme/shop/api' && image.digest === DIGEST),
      summary: `${image.registry}/${image.path}@${image.digest} has no signature`,
    }),
    edit: (f, shape) => ({ file: pinFile(shape), lineWith: editPin(f, shape, { tag: `released@${DIGEST}` }).tagLine }),
  }),
  'registry-lookup-failed': everywhere({
    resolve: async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:1')
    },
    edit: (f, shape) => ({ file: pinFile(shape), lineWith: editPin(f, shape, { tag: `released@${DIGEST}` }).tagLine }),
  }),
  'environment-frozen': everywhere({
    edit: (f) => {
      replace(
        f,
        SPEC,
        '  - name: prod\n',
        '  - name: prod\n    frozen:\n      by: ops@acme.example\n      at: "2026-12-06T10:00:00Z"\n      reason: incident 42\n',
      )
      return { file: SPEC, lineWith: 'frozen:' }
    },
  }),
  'freeze-mismatch': everywhere({
    edit: (f, shape) => {
      replace(
        f,
        SPEC,
        '  - name: prod\n',
        '  - name: prod\n    frozen:\n      by: ops@acme.example\n      at: "2026-12-06T10:00:00Z"\n',
      )
      return { file: isDependabot(shape) ? '.github/dependabot.yml' : 'renovate.json', lineWith: null }
    },
  }),
}

/** The line holding `needle`, comments aside (init's files explain themselves in comments). */
function lineOf(content: string, needle: string): number {
  const index = content.split('\n').findIndex((line) => !line.trimStart().startsWith('#') && line.includes(needle))
  if (index === -1) throw new Error(`"${needle}" not found`)
  return index + 1
}

const trees = new Map<ShapeId, Files>()
const dirs = new Map<ShapeId, string>()
let tmp: string

async function initShape(shape: ShapeId): Promise<void> {
  const [flavour, updater] = shape.split('+') as [string, string]
  const dir = join(tmp, shape.replace('+', '-'))
  const result = await runCli([
    'init',
    dir,
    '--app',
    'shop',
    '--component',
    `api=${API}:8080`,
    '--component',
    'web=quay.io/acme/shop/web:3000',
    '--flavour',
    flavour,
    '--updater',
    updater,
  ])
  expect(result.exitCode, result.stderr).toBe(0)
  const tree = await readRepoTree(dir)
  trees.set(
    shape,
    Object.fromEntries([...tree.files].map(([path, entry]) => [path, entry.kind === 'text' ? entry.text : entry])),
  )
  dirs.set(shape, dir)
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kg-shapes-'))
  for (const shape of SHAPE_IDS) await initShape(shape)
}, 120_000)

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true })
})

async function findingsOf(
  shape: ShapeId,
  rule: RuleId,
  cell: Cell,
): Promise<{ files: Files; at: { file: string; lineWith: string | null }; findings: Finding[] }> {
  const files: Files = { ...trees.get(shape)! }
  const at = cell.edit(files, shape)
  if (cell.build) {
    // --build runs the real tools over the files on disk.
    const dir = await mkdtemp(join(tmp, 'build-'))
    await cp(dirs.get(shape)!, dir, { recursive: true })
    for (const [path, content] of Object.entries(files)) {
      if (typeof content === 'string') await writeFile(join(dir, path), content)
    }
    const { kubectl, helm } = await kubeTools()
    const report = await validateRepository(dir, {
      rules: [rule],
      build: true,
      toolPath: `${dirname(kubectl)}:${dirname(helm)}`,
    })
    return { files, at, findings: report.findings }
  }
  const findings = await checkTree(memoryTree(files), {
    ...(cell.resolve ? { resolveDigest: cell.resolve } : {}),
    ...(cell.verify ? { verifySignature: cell.verify } : {}),
  })
  return { files, at, findings }
}

describe('validate rule x repo shape matrix', () => {
  it('has a row for every rule, and a failing fixture or a reason on every shape', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(RULES.map((r) => r.id).sort())
    for (const [rule, row] of Object.entries(MATRIX)) {
      for (const shape of SHAPE_IDS) {
        const cell = row[shape]
        expect(cell, `${rule} on ${shape}`).toBeDefined()
        if ('na' in cell) expect(cell.na.length, `${rule} on ${shape}: say why`).toBeGreaterThan(10)
      }
    }
  })

  it.each(SHAPE_IDS)('finds nothing in the repo init writes (%s)', async (shape) => {
    expect(await checkTree(memoryTree({ ...trees.get(shape)! }))).toEqual([])
  })

  const cases = Object.entries(MATRIX).flatMap(([rule, row]) =>
    SHAPE_IDS.flatMap((shape) => {
      const cell = row[shape]
      return 'na' in cell ? [] : [{ rule: rule as RuleId, shape, cell }]
    }),
  )
  it.each(cases)('$rule fires on $shape and names file and line', async ({ rule, shape, cell }) => {
    const { files, at, findings } = await findingsOf(shape, rule, cell)
    const hits = findings.filter((f) => f.rule === rule)
    expect(hits, JSON.stringify(findings, null, 1)).not.toHaveLength(0)
    const hit = at.file.endsWith('/')
      ? hits.find((f) => f.file.startsWith(at.file))
      : hits.find((f) => f.file === at.file)
    expect(hit, `no ${rule} finding in ${at.file}: ${JSON.stringify(hits)}`).toBeDefined()
    if (at.lineWith !== null) expect(hit!.line).toBe(lineOf(text(files, at.file), at.lineWith))
    expect(hit!.severity).toBe(RULES.find((r) => r.id === rule)!.severity)
    // A pin-level fixture is not also a schema error somewhere else (partial objects such as patches are skipped).
    if (rule !== 'k8s-schema') expect(findings.filter((f) => f.rule === 'k8s-schema')).toEqual([])
    if (isDependabot(shape))
      expect(hit!.hint, 'a Dependabot repo is never told to use Renovate').not.toMatch(/Renovate/)
  })
})

describe('the issue-15 example on every shape: a prod pin moved to quay.io/evil/api:latest', () => {
  it.each(SHAPE_IDS)('%s: validate exits 1 with image-latest and the registry finding at the pin', async (shape) => {
    const dir = join(tmp, `evil-${shape.replace('+', '-')}`)
    await cp(dirs.get(shape)!, dir, { recursive: true })
    const file = pinFile(shape)
    const files: Files = { [file]: await readFile(join(dir, file), 'utf8') }
    const lines = editPin(files, shape, { repository: 'quay.io/evil/api', tag: 'latest' })
    await writeFile(join(dir, file), text(files, file))
    const result = await runCli(['validate', dir, '--json'])
    expect(result.exitCode, result.stdout).toBe(1)
    const findings = (result.json as { findings: Finding[] }).findings
    const at = (rule: string) => findings.filter((f) => f.rule === rule).map((f) => ({ file: f.file, line: f.line }))
    const content = text(files, file)
    expect(at('image-latest')).toContainEqual({ file, line: lineOf(content, lines.tagLine) })
    expect(at('image-registry-not-allowed')).toContainEqual({ file, line: lineOf(content, lines.repositoryLine) })
  })
})

describe('findings name files from the git top level', () => {
  it.each(SHAPE_IDS)('%s: validate ./gitops --format github annotates gitops/<file>', async (shape) => {
    const mono = join(tmp, `mono-${shape.replace('+', '-')}`)
    const gitops = join(mono, 'gitops')
    await cp(dirs.get(shape)!, gitops, { recursive: true })
    await rm(join(gitops, '.git'), { recursive: true, force: true })
    await run('git', ['init', '-q', mono])
    const [file, broken] = isDependabot(shape)
      ? ['.github/dependabot.yml', (t: string) => t.replace('package-ecosystem: docker', 'package-ecosystem: dockerr')]
      : ['renovate.json', (t: string) => t.replace('"prHourlyLimit": 10', '"prHourlyLimit": "ten"')]
    await writeFile(join(gitops, file), broken(await readFile(join(gitops, file), 'utf8')))
    const result = await runCli(['validate', './gitops', '--format', 'github'], { cwd: mono })
    expect(result.exitCode, result.stdout).toBe(1)
    const annotated = [...result.stdout.matchAll(/^::(?:error|warning|notice) file=([^,]+)/gm)].map((m) => m[1])
    expect(annotated.length).toBeGreaterThan(0)
    for (const path of annotated) expect(path).toMatch(/^gitops\//)
    if (!isDependabot(shape)) expect(annotated).toContain('gitops/renovate.json')
  })
})
