import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, resolve, sep } from 'node:path'
import { UserError } from '../cli/errors.js'
import { helmValuesPath, pinStoreFor } from '../pins/index.js'
import { findEnvironment, loadRepoSpec, repoReader } from '../repo/index.js'
import type { Snapshot } from '../snapshot/index.js'
import { namespaceOf } from '../spec/index.js'
import { buildHelmChart, chartTakesDigestOnly, HELM_RENDER_VALUES, planHelmValues } from './helm.js'
import { buildKustomization } from './kustomize.js'
import { planRender, RENDER_MARKER, type RenderedImage } from './plan.js'

export interface RenderOptions {
  /** The GitOps repo (holds konflux-gitops.yaml). */
  readonly dir: string
  readonly snapshot: Snapshot
  readonly env?: string | undefined
  readonly namespace?: string | undefined
  /** Where to write the overlay; default a new temporary folder (removed again after --build). */
  readonly out?: string | undefined
  readonly build?: boolean
  readonly allowUnknown?: boolean
  /**
   * Public key files (PEM): every Snapshot image must be signed by one of them (with the spec's verify.keys, which
   * are repo-relative), else nothing is rendered.
   */
  readonly verifyKeys?: readonly string[] | undefined
}

export interface RenderResult {
  snapshot: string
  application: string
  environment: string | null
  namespace: string | null
  /** The overlay folder, or null when it was temporary and removed after building. */
  out: string | null
  images: RenderedImage[]
  warnings: string[]
  /** The built manifests (only with build). */
  manifests: string | null
}

export interface RenderDeps {
  build?: (dir: string) => Promise<string>
}

/** The ephemeral environment never runs an unsigned image: check every Snapshot image before anything is written. */
async function verifySnapshotImages(
  dir: string,
  spec: { verify?: { keys: string[] } | undefined },
  images: readonly RenderedImage[],
  keyFiles: readonly string[],
): Promise<void> {
  if (keyFiles.length === 0 && !spec.verify) return
  const [verify, { createRegistryClient }, { parseImageRef }] = await Promise.all([
    import('../verify/index.js'),
    import('../registry/index.js'),
    import('../image-ref/index.js'),
  ])
  const keys = await verify.loadVerificationKeys(verify.repoKeySources(dir, spec.verify?.keys, keyFiles))
  const client = createRegistryClient()
  try {
    const unsigned: string[] = []
    for (const image of images) {
      if (image.source !== 'snapshot' || image.digest === null) continue
      const ref = parseImageRef(image.image)
      const check = await verify.checkSignature(
        client,
        { registry: ref.registry, path: ref.path, digest: image.digest },
        keys,
      )
      if (!check.signed) unsigned.push(`${image.component}: ${check.summary}`)
    }
    if (unsigned.length > 0) {
      throw new verify.VerifyError(`refusing to render unsigned Snapshot images:\n  - ${unsigned.join('\n  - ')}`)
    }
  } finally {
    await client.close()
  }
}

export async function renderSnapshot(options: RenderOptions, deps: RenderDeps = {}): Promise<RenderResult> {
  const dir = resolve(options.dir)
  const spec = await loadRepoSpec(dir)
  const env = options.env === undefined ? undefined : findEnvironment(spec, options.env)
  const pins = env ? pinStoreFor(spec).read(spec, env.name, repoReader(dir)) : []

  const temporary = options.out === undefined
  const out = temporary ? await mkdtemp(join(tmpdir(), 'konflux-gitops-render-')) : resolve(options.out!)
  try {
    const outToRepo = relative(out, dir).split(sep).join('/')
    const plan = planRender({
      spec,
      env,
      pins,
      snapshot: options.snapshot,
      namespace: options.namespace,
      allowUnknown: options.allowUnknown ?? false,
      outToRepo,
    })
    await verifySnapshotImages(dir, spec, plan.images, options.verifyKeys ?? [])
    let manifests: string | null = null
    const warnings = [...plan.warnings]
    if (spec.flavour === 'helm') {
      // A Helm repo renders a values file for its chart instead of an overlay (see helm.ts).
      const chartDir = join(dir, 'charts', spec.app)
      const digestOnly = chartTakesDigestOnly(chartDir)
      if (!digestOnly && plan.images.some((image) => image.source === 'snapshot')) {
        warnings.push(
          `charts/${spec.app} predates digest-only image tags: the Snapshot's images render as <repository>:${spec.tag}@sha256:…; run \`npx konflux-gitops init\` to update the chart`,
        )
      }
      const values = planHelmValues(
        spec,
        options.snapshot.name,
        env ? repoReader(dir)(helmValuesPath(env.name)) : undefined,
        plan.images,
        env?.name,
        digestOnly,
      )
      await writeRendered(out, HELM_RENDER_VALUES, values)
      if (options.build) {
        manifests = await buildHelmChart({
          release: spec.app,
          chartDir,
          valuesFile: join(out, HELM_RENDER_VALUES),
          namespace: plan.namespace ?? (env ? namespaceOf(spec, env) : null),
        })
      }
    } else {
      await writeOverlay(out, plan.kustomization)
      manifests = options.build ? await (deps.build ?? buildKustomization)(out) : null
    }
    return {
      snapshot: options.snapshot.name,
      application: options.snapshot.application,
      environment: env?.name ?? null,
      namespace: plan.namespace ?? (env ? namespaceOf(spec, env) : null),
      out: temporary && options.build ? null : out,
      images: [...plan.images],
      warnings,
      manifests,
    }
  } catch (error) {
    if (temporary) await rm(out, { recursive: true, force: true })
    throw error
  } finally {
    if (temporary && options.build) await rm(out, { recursive: true, force: true })
  }
}

/** Replace the overlay atomically; an existing kustomization that this command did not write is never touched. */
async function writeOverlay(out: string, text: string): Promise<void> {
  await writeRendered(out, 'kustomization.yaml', text)
}

async function writeRendered(out: string, name: string, text: string): Promise<void> {
  await mkdir(out, { recursive: true })
  const target = join(out, name)
  let existing: string | undefined
  try {
    existing = await readFile(target, 'utf8')
  } catch {}
  if (existing !== undefined && !existing.includes(RENDER_MARKER)) {
    throw new UserError(`${target} exists and was not written by ${RENDER_MARKER}: refusing to overwrite it`, {
      code: 'out-not-empty',
      hint: 'Pass an empty or new folder as --out.',
    })
  }
  const partial = `${target}.${process.pid}.tmp`
  await writeFile(partial, text)
  await rename(partial, target)
}
