import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { addComponent, describeResult, resultExitCode, type ScaffoldResult } from '../../src/scaffold/index.js'

export default class ComponentAdd extends BaseCommand {
  static override summary = 'Add a component to the GitOps repo and every environment'
  static override description =
    `Adds NAME to konflux-gitops.yaml, writes components/NAME/base/ and adds the base and an images: entry
(newTag: <tag>, or <tag>@sha256:<digest> with --pin) to every environment's kustomization.yaml, then commits.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> worker --image quay.io/acme/shop/worker',
    '<%= config.bin %> <%= command.id %> web --image quay.io/acme/shop/web --port 8080 --pin demo',
  ]
  static override args = {
    name: Args.string({ description: 'component name (a DNS-1123 label)', required: true }),
    dir: Args.string({ description: 'directory of the GitOps repo', default: '.' }),
  }
  static override flags = {
    image: Flags.string({ description: 'image repository without tag, e.g. quay.io/acme/shop/api', required: true }),
    port: Flags.integer({ description: 'container port; adds a Service', min: 1, max: 65535 }),
    pin: Flags.boolean({ description: "pin to the tag's current digest in the registry", default: false }),
    push: Flags.boolean({ description: 'push the branch to origin after committing', default: false }),
    'dry-run': Flags.boolean({ description: 'print the diff, write nothing', default: false }),
    force: Flags.boolean({ description: 'replace generated files you edited', default: false }),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(ComponentAdd)
    const result = await addComponent({
      dir: args.dir,
      name: args.name,
      image: flags.image,
      port: flags.port,
      pin: flags.pin,
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
