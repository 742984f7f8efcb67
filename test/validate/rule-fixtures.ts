import { symlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { RuleId } from '../../src/validate/index.js'
import { DIGEST } from './clean-repo.js'

/**
 * One failing fixture per rule: the clean repo with one edit. `at` names the file and the text on the line the
 * finding must point at (null when the finding is about a whole file or a missing one).
 */
export interface RuleFixture {
  rule: RuleId
  edit(files: Record<string, string | Buffer>): void
  setup?(dir: string): Promise<void>
  at: { file: string; lineWith: string | null }
}

const DEV = 'environments/dev/kustomization.yaml'
const STAGE = 'environments/stage/kustomization.yaml'
const PROD = 'environments/prod/kustomization.yaml'
const SPEC = 'konflux-gitops.yaml'
const API_DEPLOY = 'components/api/base/deployment.yaml'
const APPSET = 'argocd/applicationset.yaml'

function replace(files: Record<string, string | Buffer>, file: string, from: string, to: string): void {
  const text = String(files[file])
  if (!text.includes(from)) throw new Error(`fixture: "${from}" not in ${file}`)
  files[file] = text.replace(from, to)
}

function renovate(files: Record<string, string | Buffer>, config: Record<string, unknown>): void {
  files['renovate.json'] = `${JSON.stringify(config, null, 2)}\n`
}

export const RULE_FIXTURES: RuleFixture[] = [
  {
    rule: 'file-unreadable',
    edit: (f) => {
      f['components/api/base/logo.yaml'] = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x0a])
    },
    at: { file: 'components/api/base/logo.yaml', lineWith: null },
  },
  {
    rule: 'symlink-outside',
    edit: () => {},
    setup: (dir) => symlink('/etc/hostname', join(dir, 'components/api/base/extra.yaml')),
    at: { file: 'components/api/base/extra.yaml', lineWith: null },
  },
  {
    rule: 'yaml-syntax',
    edit: (f) => replace(f, 'components/api/base/service.yaml', '    - port: 80\n', '    - port: 80\n   bad: [\n'),
    at: { file: 'components/api/base/service.yaml', lineWith: null },
  },
  {
    rule: 'yaml-duplicate-key',
    edit: (f) => replace(f, API_DEPLOY, '  replicas: 1\n', '  replicas: 1\n  replicas: 2\n'),
    at: { file: API_DEPLOY, lineWith: 'replicas: 2' },
  },
  {
    rule: 'yaml-alias-limit',
    edit: (f) => {
      const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
      for (let i = 1; i < 9; i++) {
        const prev = String.fromCharCode(96 + i)
        const name = String.fromCharCode(97 + i)
        lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`)
      }
      f['argocd/bomb.yaml'] = `${lines.join('\n')}\n`
    },
    at: { file: 'argocd/bomb.yaml', lineWith: 'a: &a' },
  },
  {
    rule: 'spec-missing',
    edit: (f) => {
      delete f[SPEC]
    },
    at: { file: SPEC, lineWith: null },
  },
  {
    rule: 'spec-invalid',
    edit: (f) => replace(f, SPEC, 'tag: released', 'tag: "not a tag!"'),
    at: { file: SPEC, lineWith: 'tag: "not a tag!"' },
  },
  {
    rule: 'component-base-missing',
    edit: (f) => replace(f, SPEC, 'components:\n', 'components:\n  - name: db\n    image: quay.io/acme/shop/db\n'),
    at: { file: SPEC, lineWith: 'name: db' },
  },
  {
    rule: 'environment-missing',
    edit: (f) => replace(f, SPEC, 'environments:\n', 'environments:\n  - name: qa\n'),
    at: { file: SPEC, lineWith: 'name: qa' },
  },
  {
    rule: 'stray-overlay',
    edit: (f) => {
      f['environments/old/kustomization.yaml'] = String(f[DEV])
    },
    at: { file: 'environments/old/kustomization.yaml', lineWith: 'apiVersion' },
  },
  {
    rule: 'argocd-path-missing',
    edit: (f) => replace(f, APPSET, 'path: environments/*', 'path: overlays/*'),
    at: { file: APPSET, lineWith: 'path: overlays/*' },
  },
  {
    rule: 'kustomization-invalid',
    edit: (f) =>
      replace(
        f,
        'components/api/base/kustomization.yaml',
        'resources:\n  - deployment.yaml\n  - service.yaml',
        'resources: deployment.yaml',
      ),
    at: { file: 'components/api/base/kustomization.yaml', lineWith: 'resources: deployment.yaml' },
  },
  {
    rule: 'kustomize-path-missing',
    edit: (f) =>
      replace(
        f,
        STAGE,
        '  - ../../components/web/base\n',
        '  - ../../components/web/base\n  - ../../components/db/base\n',
      ),
    at: { file: STAGE, lineWith: 'components/db/base' },
  },
  {
    rule: 'kustomize-cycle',
    edit: (f) =>
      replace(
        f,
        'components/web/base/kustomization.yaml',
        '  - service.yaml\n',
        '  - service.yaml\n  - ../../../environments/dev\n',
      ),
    at: { file: 'components/web/base/kustomization.yaml', lineWith: 'environments/dev' },
  },
  {
    rule: 'kustomize-image-missing',
    edit: (f) => replace(f, STAGE, '  - name: quay.io/acme/shop/web\n    newTag: released\n', ''),
    at: { file: STAGE, lineWith: 'images:' },
  },
  {
    rule: 'image-tag-and-digest',
    edit: (f) => replace(f, PROD, `newTag: released@${DIGEST}`, `newTag: released\n    digest: ${DIGEST}`),
    at: { file: PROD, lineWith: 'digest: sha256' },
  },
  {
    rule: 'image-digest-format',
    edit: (f) => replace(f, PROD, `newTag: released@${DIGEST}`, 'newTag: released@sha256:abc123'),
    at: { file: PROD, lineWith: 'sha256:abc123' },
  },
  {
    rule: 'image-latest',
    edit: (f) => replace(f, DEV, '    newTag: released\n', '    newTag: latest\n'),
    at: { file: DEV, lineWith: 'newTag: latest' },
  },
  {
    rule: 'image-untagged',
    edit: (f) =>
      replace(f, DEV, '  - name: quay.io/acme/shop/api\n    newTag: released\n', '  - name: quay.io/acme/shop/api\n'),
    at: { file: DEV, lineWith: 'name: quay.io/acme/shop/api' },
  },
  {
    rule: 'image-tag-policy',
    edit: (f) => replace(f, DEV, '    newTag: released\n', '    newTag: v1.2.3\n'),
    at: { file: DEV, lineWith: 'newTag: v1.2.3' },
  },
  {
    rule: 'image-unpinned',
    edit: (f) => replace(f, SPEC, 'tag: released\n', 'tag: released\nallowUnpinned: false\n'),
    at: { file: DEV, lineWith: 'newTag: released' },
  },
  {
    rule: 'image-registry-not-allowed',
    edit: (f) => replace(f, DEV, '    newTag: released\n', '    newName: docker.io/evil/api\n    newTag: released\n'),
    at: { file: DEV, lineWith: 'newName: docker.io/evil/api' },
  },
  {
    rule: 'k8s-schema',
    edit: (f) => replace(f, API_DEPLOY, '  replicas: 1\n', '  replicas: two\n'),
    at: { file: API_DEPLOY, lineWith: 'replicas: two' },
  },
  {
    rule: 'argocd-schema',
    edit: (f) => replace(f, APPSET, '          prune: true\n', '          prune: [yes]\n'),
    at: { file: APPSET, lineWith: 'prune: [yes]' },
  },
  {
    rule: 'renovate-config-missing',
    edit: (f) => {
      delete f['renovate.json']
    },
    at: { file: 'renovate.json', lineWith: null },
  },
  {
    rule: 'renovate-config-invalid',
    edit: (f) => renovate(f, { extends: ['config:recommended', 'docker:pinDigests'], automergeType: 'rocket' }),
    at: { file: 'renovate.json', lineWith: '"automergeType"' },
  },
  {
    rule: 'renovate-config-warning',
    edit: (f) => renovate(f, { extends: ['config:recommended', 'docker:pinDigests'], baseBranches: ['main'] }),
    at: { file: 'renovate.json', lineWith: '"baseBranches"' },
  },
  {
    rule: 'renovate-preset-unresolved',
    edit: (f) => renovate(f, { extends: ['config:recommended', 'docker:pinDigests', 'github>acme/renovate-presets'] }),
    at: { file: 'renovate.json', lineWith: 'github>acme/renovate-presets' },
  },
  {
    rule: 'renovate-digest-pinning',
    edit: (f) => renovate(f, { extends: ['config:recommended'] }),
    at: { file: 'renovate.json', lineWith: '"extends"' },
  },
]

/** Rules whose fixture needs more than the files: kustomize on PATH (cli.test.ts), a registry (drift.test.ts). */
export const RULES_TESTED_ELSEWHERE: RuleId[] = [
  'kustomize-build',
  'image-drift',
  'registry-lookup-failed',
  // test/freeze/freeze.test.ts: a repo frozen and unfrozen by the real commands
  'environment-frozen',
  'freeze-mismatch',
  // test/dependabot/dependabot.test.ts: a quoted image: and a directory dependabot.yml does not list
  'dependabot-pin-invisible',
  // test/shapes/validate-matrix.test.ts: rules of the Helm and Dependabot shapes, which this kustomize repo is not
  'helm-values-invalid',
  'helm-component-unknown',
  'helm-values-ignored',
  'image-patch-unreferenced',
  // test/install/packed.test.ts: the packed package installed without its optional renovate peer
  'renovate-not-installed',
  // test/shapes/validate-matrix.test.ts: needs signed and unsigned images in a registry (--verify-key)
  'image-unsigned',
]
