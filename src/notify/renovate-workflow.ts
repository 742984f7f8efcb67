import { Document } from 'yaml'
import { DISPATCH_EVENT_TYPE } from './plan.js'

export const RENOVATE_WORKFLOW = '.github/workflows/renovate.yaml'

/** A GitHub Actions expression, `${{ … }}`. */
const expr = (expression: string) => `\${{ ${expression} }}`

/** A registry the workflow logs Renovate into, and the repository secrets holding its credentials. */
export interface RunnerRegistry {
  host: string
  /** Secret names, e.g. REGISTRY_QUAY_IO_USERNAME (init uses the same names as for Dependabot). */
  username: string
  password: string
}

/**
 * For users who run Renovate themselves (`init --renovate-runner github-actions`): a workflow that runs Renovate on
 * this repository on a schedule, by hand (workflow_dispatch), and at once when a release notifies it
 * (repository_dispatch `konflux-gitops-released`, sent by `release --notify … --notify-via dispatch`).
 */
export function renovateRunnerWorkflow(registries: readonly RunnerRegistry[]): string {
  const hostRules = registries.map((s) => ({
    hostType: 'docker',
    matchHost: s.host,
    username: expr(`secrets.${s.username}`),
    password: expr(`secrets.${s.password}`),
  }))
  const workflow = {
    name: 'renovate',
    on: {
      schedule: [{ cron: '17 */4 * * *' }],
      workflow_dispatch: {},
      repository_dispatch: { types: [DISPATCH_EVENT_TYPE] },
    },
    // One run at a time; a notification arriving mid-run queues one more, which picks the new digest up.
    concurrency: { group: 'renovate', 'cancel-in-progress': false },
    permissions: { contents: 'read' },
    jobs: {
      renovate: {
        'runs-on': 'ubuntu-latest',
        'timeout-minutes': 30,
        steps: [
          { uses: 'actions/setup-node@v6', with: { 'node-version': 24 } },
          {
            name: 'Renovate',
            run: 'npx --yes renovate@44',
            env: {
              RENOVATE_PLATFORM: 'github',
              // A token that can push branches and open pull requests (a fine-grained PAT or a GitHub App token):
              // pull requests opened with GITHUB_TOKEN do not start other workflows, so validate would not run.
              RENOVATE_TOKEN: expr('secrets.RENOVATE_TOKEN'),
              RENOVATE_REPOSITORIES: expr('github.repository'),
              RENOVATE_ONBOARDING: 'false',
              RENOVATE_REQUIRE_CONFIG: 'required',
              ...(hostRules.length ? { RENOVATE_HOST_RULES: JSON.stringify(hostRules) } : {}),
              LOG_LEVEL: 'info',
            },
          },
        ],
      },
    },
  }
  const doc = new Document(workflow)
  doc.commentBefore = ` Runs Renovate on this repository: every 4 hours, by hand, and at once when konflux-gitops release\n notifies it (${DISPATCH_EVENT_TYPE}). Secrets: see README.md.`
  return doc.toString({ lineWidth: 0 })
}

/** README section naming the secrets the workflow reads. */
export function renovateRunnerReadme(registries: readonly RunnerRegistry[]): string {
  const secrets = registries
  return [
    '## Renovate runs here (GitHub Actions)',
    '',
    `\`${RENOVATE_WORKFLOW}\` runs Renovate on a schedule, from the Actions tab (workflow_dispatch), and at once when`,
    `\`konflux-gitops release --notify github:OWNER/REPO --notify-via dispatch\` sends \`${DISPATCH_EVENT_TYPE}\`.`,
    'Create these repository secrets (Settings → Secrets and variables → Actions):',
    '',
    '- `RENOVATE_TOKEN`: a fine-grained token (Contents and Pull requests: write; Issues: write for the dashboard) or a GitHub App installation token',
    ...secrets.map(
      (s) =>
        `- \`${s.username}\` and \`${s.password}\`: a read-only robot account for ${s.host} (quay.io: a robot with read permission)`,
    ),
    '',
  ].join('\n')
}
