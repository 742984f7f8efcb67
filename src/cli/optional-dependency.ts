import { createRequire } from 'node:module'
import { UserError } from './errors.js'
import { ownPackage, ownVersion } from './package-info.js'

/**
 * Packages only some commands need, declared as optional peer dependencies (package.json peerDependenciesMeta):
 * a default install leaves them out, and the commands that use them load them lazily and say how to add them.
 */
export type OptionalDependency = 'renovate' | '@kubernetes/client-node'

const require = createRequire(import.meta.url)

/** Resolvable from konflux-gitops itself: installed next to it (same project, same npx run, or both global). */
export function isInstalled(name: OptionalDependency): boolean {
  try {
    require.resolve(`${name}/package.json`)
    return true
  } catch {
    return false
  }
}

/** `renovate@^44.121.2`: the range konflux-gitops is tested with, from its peerDependencies. */
export function installSpec(name: OptionalDependency): string {
  const range = ownPackage().peerDependencies?.[name]
  return range ? `${name}@${range}` : name
}

/** One sentence: the ways to install the package where konflux-gitops finds it. */
export function installHint(name: OptionalDependency): string {
  const spec = installSpec(name)
  return (
    `Install ${spec} next to konflux-gitops: \`npm install ${spec}\` in the project that has konflux-gitops, ` +
    `\`npm install --global konflux-gitops@${ownVersion()} ${spec}\`, or run it with ` +
    `\`npx --yes --package konflux-gitops@${ownVersion()} --package ${spec} konflux-gitops …\`.`
  )
}

/** The error a command that cannot work without the package throws (exit 1, code optional-dependency-missing). */
export function missingDependency(name: OptionalDependency, needs: string): UserError {
  return new UserError(`${needs} needs ${name}, an optional dependency of konflux-gitops that is not installed`, {
    code: 'optional-dependency-missing',
    hint: installHint(name),
  })
}

/** Throws missingDependency(name, needs) unless the package is installed. */
export function requireInstalled(name: OptionalDependency, needs: string): void {
  if (!isInstalled(name)) throw missingDependency(name, needs)
}
