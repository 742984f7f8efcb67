import { parseImageRef } from '../image-ref/index.js'
import { RENOVATE_WORKFLOW, renovateRunnerReadme, renovateRunnerWorkflow } from '../notify/renovate-workflow.js'
import { helmValuesPath, imagePatchDir, parseYamlFile } from '../pins/index.js'
import { autoMergeOf, type RepoSpec } from '../spec/index.js'
import type { DesiredFile } from './plan.js'
import type { UpdaterPlanner } from './shape.js'
import { renderTemplate } from './templates.js'

export const DEPENDABOT_CONFIG = '.github/dependabot.yml'
export const DEPENDABOT_AUTOMERGE_WORKFLOW = '.github/workflows/dependabot-auto-merge.yaml'
/** Environments Dependabot's auto-merge workflow never covers, whatever the spec says. */
const NEVER_AUTOMERGED = ['prod', 'production']

export const renovateUpdater: UpdaterPlanner = {
  displayName: 'Renovate',
  files(input) {
    const files: DesiredFile[] = [{ path: 'renovate.json', content: input.renovateConfig, merged: false }]
    if (input.spec.renovateRunner === 'github-actions') {
      files.push({
        path: RENOVATE_WORKFLOW,
        content: renovateRunnerWorkflow(dependabotRegistries(input.spec)),
        merged: false,
      })
    }
    return files
  },
  readme(spec) {
    const lines = '- `renovate.json`: which pull requests Renovate opens and which merge on their own.'
    if (spec.renovateRunner !== 'github-actions') return lines
    return `${lines}\n\n${renovateRunnerReadme(dependabotRegistries(spec))}`
  },
}

export const dependabotUpdater: UpdaterPlanner = {
  displayName: 'Dependabot',
  files(input) {
    const { spec } = input
    const files: DesiredFile[] = [{ path: DEPENDABOT_CONFIG, content: dependabotConfig(spec), merged: false }]
    const groups = dependabotAutoMergeEnvironments(spec).map(dependabotGroupName)
    if (groups.length > 0) {
      files.push({
        path: DEPENDABOT_AUTOMERGE_WORKFLOW,
        content: renderTemplate('dependabot/automerge.yaml', {
          environments: dependabotAutoMergeEnvironments(spec).join(', '),
          groups: JSON.stringify(groups),
        }),
        merged: false,
      })
    }
    return files
  },
  readme(spec) {
    const secrets = dependabotRegistries(spec)
      .map((r) => `  \`${r.username}\` and \`${r.password}\` (a robot account that can pull from ${r.host})`)
      .join(';\n')
    return [
      `- \`${DEPENDABOT_CONFIG}\`: one docker update per environment, grouped into one pull request per environment.`,
      '  Set these Dependabot secrets (Settings → Secrets and variables → Dependabot):',
      `${secrets}.`,
      `- \`${DEPENDABOT_AUTOMERGE_WORKFLOW}\`: enables auto-merge on Dependabot's pull requests for ${dependabotAutoMergeEnvironments(spec).join(', ') || 'no environment'} (never prod).`,
    ].join('\n')
  },
}

/** The directory Dependabot must list for an environment: where that environment's pins live. */
export function dependabotDirectory(spec: Pick<RepoSpec, 'flavour'>, env: string): string {
  const file = spec.flavour === 'helm' ? helmValuesPath(env) : `${imagePatchDir(env)}/x`
  return `/${file.slice(0, file.lastIndexOf('/'))}`
}

/** Group names are unique per environment so fetch-metadata's `dependency-group` tells the environment. */
export function dependabotGroupName(env: string): string {
  return `${env}-images`
}

export function dependabotAutoMergeEnvironments(spec: RepoSpec): string[] {
  return spec.environments
    .filter((env) => autoMergeOf(env) && !env.frozen && !NEVER_AUTOMERGED.includes(env.name))
    .map((env) => env.name)
}

/** One registries: entry per registry host the components use; credentials from the repository's secrets. */
export function dependabotRegistries(
  spec: RepoSpec,
): { key: string; host: string; username: string; password: string }[] {
  const hosts = [...new Set(spec.components.map((component) => parseImageRef(component.image).registry))]
  return hosts.map((host) => {
    const id = host.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()
    return {
      key: host.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase(),
      host,
      username: `REGISTRY_${id}_USERNAME`,
      password: `REGISTRY_${id}_PASSWORD`,
    }
  })
}

function dependabotConfig(spec: RepoSpec): string {
  const registries = dependabotRegistries(spec)
  const header = renderTemplate('dependabot/dependabot.yml', { app: spec.app, tag: spec.tag })
  const body = {
    registries: Object.fromEntries(
      registries.map((registry) => [
        registry.key,
        {
          type: 'docker-registry',
          url: `https://${registry.host}`,
          username: `\${{secrets.${registry.username}}}`,
          password: `\${{secrets.${registry.password}}}`,
        },
      ]),
    ),
    updates: spec.environments.map((env) => ({
      'package-ecosystem': 'docker',
      directory: dependabotDirectory(spec, env.name),
      registries: registries.map((registry) => registry.key),
      schedule: { interval: 'daily' },
      groups: { [dependabotGroupName(env.name)]: { patterns: ['*'] } },
      'commit-message': { prefix: `deploy(${env.name})` },
      // A frozen environment takes no new digests: Dependabot opens no pull requests for it.
      ...(env.frozen ? { 'open-pull-requests-limit': 0 } : {}),
    })),
  }
  const doc = parseYamlFile(header, 'dependabot/dependabot.yml')
  doc.set('registries', doc.createNode(body.registries))
  doc.set('updates', doc.createNode(body.updates))
  return doc.toString({ lineWidth: 0 })
}
