import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { nameAndDirArgs, scaffoldFlags, scaffoldOptions } from '../../src/cli/flags.js'
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
  static override args = nameAndDirArgs('component name (a DNS-1123 label)')
  static override flags = {
    image: Flags.string({ description: 'image repository without tag, e.g. quay.io/acme/shop/api', required: true }),
    port: Flags.integer({ description: 'container port; adds a Service', min: 1, max: 65535 }),
    pin: Flags.boolean({ description: "pin to the tag's current digest in the registry", default: false }),
    ...scaffoldFlags('replace generated files you edited'),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(ComponentAdd)
    const result = await addComponent({
      dir: args.dir,
      name: args.name,
      image: flags.image,
      port: flags.port,
      pin: flags.pin,
      ...scaffoldOptions(flags),
      progress: (message) => this.progress(message),
    })
    return this.report(result, describeResult, resultExitCode)
  }
}
