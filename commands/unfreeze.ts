import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { describeFreeze, type FreezeResult, freezeEnvironment } from '../src/freeze/index.js'

export default class Unfreeze extends BaseCommand {
  static override summary = 'Let the updater change a frozen environment again'
  static override description =
    `Removes the environment's frozen entry from konflux-gitops.yaml and exactly the packageRules entry freeze added
to renovate.json, so the updater proposes updates for it again. Commits on the current branch (or a new --branch);
--push pushes it; --github OWNER/REPO opens a pull request.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --env prod',
    '<%= config.bin %> <%= command.id %> --env prod --dry-run --json',
  ]
  static override args = {
    dir: Args.string({ description: 'the GitOps repository (default: current folder)', default: '.' }),
  }
  static override flags = {
    env: Flags.string({ char: 'e', description: 'environment to unfreeze', required: true }),
    branch: Flags.string({ description: 'commit on this new branch instead of the current one' }),
    push: Flags.boolean({ description: 'push the branch to --remote' }),
    remote: Flags.string({ description: 'git remote to push to', default: 'origin' }),
    github: Flags.string({ description: 'OWNER/REPO: open a pull request with the change on GitHub' }),
    'github-api-url': Flags.string({ description: 'GitHub REST API URL (GitHub Enterprise)', env: 'GITHUB_API_URL' }),
    'dry-run': Flags.boolean({ description: 'print what would change and change nothing' }),
  }

  async run(): Promise<FreezeResult> {
    const { args, flags } = await this.parse(Unfreeze)
    const result = await freezeEnvironment({
      dir: args.dir,
      env: flags.env,
      unfreeze: true,
      branch: flags.branch,
      push: flags.push,
      remote: flags.remote,
      github: flags.github,
      githubApiUrl: flags['github-api-url'],
      dryRun: flags['dry-run'],
      onProgress: (message) => this.progress(message),
    })
    this.log(describeFreeze(result))
    return result
  }
}
