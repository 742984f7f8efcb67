import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { addEnvironment, describeResult, resultExitCode, type ScaffoldResult } from '../../src/scaffold/index.js'

export default class EnvAdd extends BaseCommand {
  static override summary = 'Add an environment to the GitOps repo'
  static override description =
    `Adds NAME to konflux-gitops.yaml and writes environments/NAME/kustomization.yaml (namespace, every
component's base, an images: entry per component), updates the Argo CD objects and renovate.json, then commits.
The namespace defaults to <app>-NAME; only "dev" auto-merges Renovate's updates unless --auto-merge says otherwise.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> qa',
    '<%= config.bin %> <%= command.id %> perf --namespace shop-perf --destination-server https://perf.example.com:6443 --auto-merge',
  ]
  static override args = {
    name: Args.string({ description: 'environment name (a DNS-1123 label)', required: true }),
    dir: Args.string({ description: 'directory of the GitOps repo', default: '.' }),
  }
  static override flags = {
    namespace: Flags.string({ description: 'namespace to deploy to (default <app>-NAME)' }),
    'destination-server': Flags.string({ description: 'cluster API URL Argo CD deploys this environment to' }),
    'auto-merge': Flags.boolean({ description: "merge Renovate's digest updates without review", allowNo: true }),
    push: Flags.boolean({ description: 'push the branch to origin after committing', default: false }),
    'dry-run': Flags.boolean({ description: 'print the diff, write nothing', default: false }),
    force: Flags.boolean({ description: 'replace generated files you edited', default: false }),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(EnvAdd)
    const result = await addEnvironment({
      dir: args.dir,
      name: args.name,
      namespace: flags.namespace,
      destinationServer: flags['destination-server'],
      autoMerge: flags['auto-merge'],
      push: flags.push,
      dryRun: flags['dry-run'],
      force: flags.force,
      progress: (message) => this.progress(message),
    })
    this.log(describeResult(result))
    this.exitWith(resultExitCode(result))
    return result
  }
}
