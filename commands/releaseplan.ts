import { Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { type ReleasePlanResult, renderReleasePlan } from '../src/release/releaseplan.js'

export default class ReleasePlanCommand extends BaseCommand {
  static override summary = 'Print the Konflux ReleasePlan that runs konflux-gitops release on every tested Snapshot'
  static override description =
    `For users who want the release step inside Konflux: prints a ReleasePlan (auto-release, the tag mapping,
a tenant pipeline), the ServiceAccount, Role and RoleBinding that pipeline needs to read the Snapshot and the
ReleasePlan, and the Tekton Pipeline itself, which runs \`konflux-gitops release\` with push credentials from a
kubernetes.io/dockerconfigjson Secret. Commit the Pipeline where --pipeline-repo/--pipeline-path say, apply the rest.
The Pipeline declares exactly what release-service starts a tenant pipeline with (params release, releasePlan,
snapshot; workspace release-workspace, where the full report is written). The documents are the template
scaffolds/releaseplan/releaseplan.yaml filled in. Nothing is written; --json returns the documents as objects.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --application shop > releaseplan.yaml',
    '<%= config.bin %> <%= command.id %> --component-group shop-group > releaseplan.yaml',
    '<%= config.bin %> <%= command.id %> --application shop --tag released --tag "{{ git_short_sha }}" --pipeline-repo https://github.com/acme/shop-gitops.git',
  ]
  static override flags = {
    application: Flags.string({
      description: 'Konflux application name',
      exactlyOne: ['application', 'component-group'],
    }),
    'component-group': Flags.string({
      description: 'Konflux ComponentGroup name, for the ComponentGroup model (instead of --application)',
    }),
    tag: Flags.string({
      description: 'release tag (repeatable; templates allowed); default: released',
      multiple: true,
    }),
    namespace: Flags.string({ description: 'tenant namespace for the objects (default: none, kubectl -n decides)' }),
    'pipeline-repo': Flags.string({ description: 'git URL the ReleasePlan loads the tenant Pipeline from' }),
    'pipeline-revision': Flags.string({ description: 'branch or commit of --pipeline-repo', default: 'main' }),
    'pipeline-path': Flags.string({
      description: 'path of the Pipeline in --pipeline-repo',
      default: '.tekton/konflux-gitops-release.yaml',
    }),
    'registry-secret': Flags.string({
      description: 'dockerconfigjson Secret with push access (default: APP-release-push)',
    }),
    'service-account': Flags.string({
      description: 'ServiceAccount the pipeline runs as',
      default: 'konflux-gitops-releaser',
    }),
    'runner-image': Flags.string({
      description:
        'konflux-gitops image for the release step, e.g. with its digest (default: quay.io/konflux-gitops/konflux-gitops:<--cli-version>)',
    }),
    'cli-version': Flags.string({
      description: 'konflux-gitops version whose image the pipeline runs (default: the version running this command)',
    }),
  }

  async run(): Promise<ReleasePlanResult> {
    const { flags } = await this.parse(ReleasePlanCommand)
    const result = renderReleasePlan({
      application: flags.application,
      componentGroup: flags['component-group'],
      namespace: flags.namespace,
      tags: flags.tag,
      pipelineRepo: flags['pipeline-repo'],
      pipelineRevision: flags['pipeline-revision'],
      pipelinePath: flags['pipeline-path'],
      registrySecret: flags['registry-secret'],
      serviceAccount: flags['service-account'],
      runnerImage: flags['runner-image'],
      cliVersion: flags['cli-version'],
    })
    this.log(result.yaml.trimEnd())
    return result
  }
}
