import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { scaffoldFlags, scaffoldOptions } from '../../src/cli/flags.js'
import { describeResult, enableIntegrationTest, resultExitCode, type ScaffoldResult } from '../../src/scaffold/index.js'

export default class IntegrationAdd extends BaseCommand {
  static override summary =
    'Add an ephemeral-environment integration test: an IntegrationTestScenario and its Tekton Pipeline'
  static override description =
    `Records integrationTest in konflux-gitops.yaml and writes integration/integration-test-scenario.yaml
(IntegrationTestScenario, appstudio.redhat.com/v1beta2) and integration/pipelines/deploy-and-test.yaml (a Tekton
Pipeline), then commits. For every Snapshot, Konflux runs the pipeline from this repo through the git resolver: it
provisions an ephemeral namespace, deploys exactly the Snapshot's images with this repo's manifests
(konflux-gitops render --snapshot "$SNAPSHOT" --build | kubectl apply -f -: kustomize, or helm template on a Helm
repo), waits for the rollouts, then runs the run-tests task: put your tests there. init --integration-test does the
same, on every repo shape.

The pipeline is read from repoURL at the spec's branch: --repo-url sets repoURL (default: the origin remote).
Apply the scenario in your Konflux tenant namespace once pushed:
  kubectl apply -f integration/integration-test-scenario.yaml -n <tenant>

Your edits to the pipeline (your tests) are kept on later runs; a run that would change an edited file reports a
conflict (exit 1) unless --force.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --env stage --repo-url https://github.com/acme/shop-gitops.git',
    '<%= config.bin %> <%= command.id %> ../shop-gitops --dry-run',
  ]
  static override args = {
    dir: Args.string({ description: 'directory of the GitOps repo', default: '.' }),
  }
  static override flags = {
    env: Flags.string({
      description:
        'environment the Snapshot is deployed on top of: its overlay, or its Helm values (default: stage, else the first)',
    }),
    'repo-url': Flags.string({ description: 'URL Konflux clones this repo from (default: repoURL, else origin)' }),
    name: Flags.string({ description: 'name of the scenario and pipeline (default: <app>-deploy-and-test)' }),
    'component-group': Flags.string({
      description: 'Konflux ComponentGroup the scenario tests (ComponentGroup model; default: the application)',
    }),
    ...scaffoldFlags('replace generated files you edited'),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(IntegrationAdd)
    const result = await enableIntegrationTest({
      dir: args.dir,
      env: flags.env,
      name: flags.name,
      repoUrl: flags['repo-url'],
      componentGroup: flags['component-group'],
      ...scaffoldOptions(flags),
      progress: (message) => this.progress(message),
    })
    return this.report(result, describeResult, resultExitCode)
  }
}
