import { parseImageRef } from '../image-ref/index.js'
import { driftOf, memoTagResolver, pinStoreFor } from '../pins/index.js'
import type { RegistryClient } from '../registry/index.js'
import type { CheckLine, DoctorContext } from './types.js'

function short(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1…')
}

interface Failure {
  code: string
  message: string
}

function failureOf(error: unknown): Failure {
  const e = error as { registryCode?: string; code?: string; message?: string }
  return { code: e.registryCode ?? e.code ?? 'error', message: e.message ?? String(error) }
}

function fixFor(failure: Failure, registry: string, reference: string): string {
  switch (failure.code) {
    case 'registry-unauthorized':
    case 'registry-denied':
      return `Log in with credentials that can pull ${reference}: \`docker login ${registry}\` (or podman login; DOCKER_CONFIG / REGISTRY_AUTH_FILE pick the file).`
    case 'registry-unavailable':
      return `Check that ${registry} is reachable from here (network, proxy, TLS: NODE_EXTRA_CA_CERTS for a private CA).`
    default:
      return `Check the image repository in konflux-gitops.yaml and that ${registry} answers (\`skopeo inspect docker://${reference}\`).`
  }
}

/**
 * Registry: each component's release tag exists (and its digest), each environment's pinned digest still exists,
 * and which environments are behind the tag. One HEAD per tag and per distinct pinned digest.
 */
export async function checkRegistry(ctx: DoctorContext, client: RegistryClient): Promise<CheckLine[]> {
  const spec = ctx.spec
  if (!spec || spec.components.length === 0) return []
  const tagLines: CheckLine[] = []
  const pinLines: CheckLine[] = []
  const updater = spec.updater === 'dependabot' ? 'Dependabot' : 'Renovate'
  // One lookup per repository:tag, shared by the tag lines and the pins' drift below.
  const resolveTag = memoTagResolver(
    async (repository, tag) => (await client.resolveDigest(`${repository}:${tag}`)).digest,
  )

  await Promise.all(
    spec.components.map(async (component, index) => {
      const reference = `${component.image}:${spec.tag}`
      const { registry, path } = parseImageRef(component.image)
      const credentials = await client.transport.credentials.get(registry, path).catch(() => undefined)
      const how = credentials ? 'with your docker config credentials' : 'anonymously'
      try {
        const digest = await resolveTag(component.image, spec.tag)
        tagLines[index] = {
          id: `registry.tag.${component.name}`,
          link: 'registry',
          status: 'ok',
          message: `${reference} → ${digest} (read ${how})`,
          fix: null,
        }
      } catch (error) {
        const failure = failureOf(error)
        const missing = failure.code === 'registry-not-found'
        tagLines[index] = {
          id: `registry.tag.${component.name}`,
          link: 'registry',
          status: 'fail',
          message: missing
            ? `${reference} does not exist (read ${how}): nothing for ${updater} to pin`
            : `${reference} cannot be read (read ${how}): ${failure.message}`,
          fix: missing
            ? `Release a Snapshot so ${spec.tag} exists (\`npx konflux-gitops release --snapshot FILE\`), or fix the component's image or the tag in konflux-gitops.yaml.`
            : fixFor(failure, registry, reference),
        }
      }
    }),
  )

  const store = pinStoreFor(spec)
  const exists = new Map<string, Promise<boolean | Failure>>()
  await Promise.all(
    spec.environments.map(async (env, index) => {
      let pins: ReturnType<typeof store.read>
      try {
        pins = store.read(spec, env.name, (p) => ctx.readText(p))
      } catch (error) {
        pinLines[index] = {
          id: `registry.pins.${env.name}`,
          link: 'registry',
          status: 'fail',
          message: `cannot read the pins of ${env.name}: ${(error as Error).message}`,
          fix: 'Fix the file named; `npx konflux-gitops validate` shows the same.',
        }
        return
      }
      const gone: string[] = []
      const behind: string[] = []
      const unpinned: string[] = []
      const errors: string[] = []
      const current: string[] = []
      for (const component of spec.components) {
        const pin = pins.find((p) => p.component === component.name)
        if (!pin?.digest) {
          unpinned.push(component.name)
          continue
        }
        const reference = `${pin.repository}@${pin.digest}`
        let probe = exists.get(reference)
        if (!probe) {
          probe = client.manifestExists(reference).catch((error: unknown) => failureOf(error))
          exists.set(reference, probe)
        }
        const found = await probe
        if (typeof found === 'object') errors.push(`${component.name}: ${found.message}`)
        else if (!found) gone.push(`${component.name} pins ${short(pin.digest)}, which the registry no longer has`)
        else {
          // The pins module's drift function; a failed tag lookup is the tag line's to report.
          const [drift] = await driftOf([pin], resolveTag, { defaultTag: spec.tag })
          if (drift?.drifted && drift.current)
            behind.push(`${component.name} ${short(pin.digest)} → ${short(drift.current)}`)
          else current.push(component.name)
        }
      }
      const id = `registry.pins.${env.name}`
      const file = store.files(spec, env.name).join(', ')
      if (gone.length > 0) {
        pinLines[index] = {
          id,
          link: 'registry',
          status: 'fail',
          message: `${env.name}: ${gone.join('; ')} (a deploy would fail to pull)`,
          fix: `Pin a digest that exists, e.g. the current ${spec.tag}: merge ${updater}'s pending pull request, or \`npx konflux-gitops promote\`; edit ${file} by hand as a last resort.`,
        }
      } else if (errors.length > 0) {
        pinLines[index] = {
          id,
          link: 'registry',
          status: 'fail',
          message: `${env.name}: cannot check pinned digests: ${errors.join('; ')}`,
          fix: 'Check registry access (see the registry.tag lines above).',
        }
      } else if (behind.length > 0 && env.frozen) {
        // A frozen environment stays where it was put: behind the tag is what the freeze is for.
        pinLines[index] = {
          id,
          link: 'registry',
          status: 'ok',
          message: `${env.name} is frozen by ${env.frozen.by} since ${env.frozen.at}${env.frozen.reason ? ` (${env.frozen.reason})` : ''}: it stays at its pins while ${spec.tag} moves (${behind.join(', ')}); ${updater} opens no pull request for it`,
          fix: null,
        }
      } else if (behind.length > 0) {
        pinLines[index] = {
          id,
          link: 'registry',
          status: 'warn',
          message: `${env.name} is behind ${spec.tag}: ${behind.join(', ')}`,
          fix:
            spec.updater === 'renovate'
              ? `Expected until Renovate's pull request for ${env.name} merges; \`doctor --renovate\` shows what it would propose.`
              : `Expected until Dependabot's pull request for ${env.name} merges (it checks on its schedule; "Check for updates" in the repository's Dependabot tab runs it now).`,
        }
      } else {
        const parts = [
          current.length ? `${current.length} pinned digest(s) exist and match ${spec.tag}` : '',
          unpinned.length ? `unpinned (follows ${spec.tag}): ${unpinned.join(', ')}` : '',
        ].filter(Boolean)
        const frozen = env.frozen
          ? ` (frozen by ${env.frozen.by}${env.frozen.reason ? `: ${env.frozen.reason}` : ''})`
          : ''
        pinLines[index] = {
          id,
          link: 'registry',
          status: 'ok',
          message: `${env.name}${frozen}: ${parts.join('; ') || 'no images'}`,
          fix: null,
        }
      }
    }),
  )
  return [...tagLines, ...pinLines].filter(Boolean)
}
