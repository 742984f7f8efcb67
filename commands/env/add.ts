import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { nameAndDirArgs, scaffoldFlags, scaffoldOptions } from '../../src/cli/flags.js'
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
  static override args = nameAndDirArgs('environment name (a DNS-1123 label)')
  static override flags = {
    namespace: Flags.string({ description: 'namespace to deploy to (default <app>-NAME)' }),
    'destination-server': Flags.string({ description: 'cluster API URL Argo CD deploys this environment to' }),
    'auto-merge': Flags.boolean({
      description: "merge the updater's digest updates without review (refused for prod and production)",
      allowNo: true,
    }),
    pin: Flags.boolean({
      description: "pin every component to its tag's current digest in the registry",
      default: false,
    }),
    ...scaffoldFlags('replace generated files you edited'),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(EnvAdd)
    const result = await addEnvironment({
      dir: args.dir,
      name: args.name,
      namespace: flags.namespace,
      destinationServer: flags['destination-server'],
      autoMerge: flags['auto-merge'],
      pin: flags.pin,
      ...scaffoldOptions(flags),
      progress: (message) => this.progress(message),
    })
    return this.report(result, describeResult, resultExitCode)
  }
}
