import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { describeResult, initRepo, resultExitCode, type ScaffoldResult } from '../src/scaffold/index.js'
import { argocdModes, ciModes, flavours, updaters } from '../src/spec/index.js'

export default class Init extends BaseCommand {
  static override summary =
    'Create or reconcile a GitOps repo that Argo CD deploys and Renovate (or Dependabot) keeps pinned'
  static override description =
    `Writes konflux-gitops.yaml (the repo's spec), a kustomize base per component, an overlay per
environment whose images: entries set newTag: <tag> (or <tag>@sha256:<digest> with --pin), Argo CD objects,
renovate.json, a validate workflow and a README, then commits them. In an existing konflux-gitops repo it merges
the flags into the spec and reconciles the tree: unchanged files are left alone, a generated file you edited is
kept and reported (exit 1) unless --force, and lists in kustomization.yaml files are merged keeping your entries.
A second run with the same input changes nothing and makes no commit.

--flavour helm writes a chart (charts/<app>/) and environments/<env>/values.yaml with, per component,
image: {repository, tag: "<tag>@sha256:<digest>"}; Argo CD deploys the chart with that values file.
--updater dependabot writes .github/dependabot.yml (one docker update and group per environment) and a workflow
that enables auto-merge for auto-merge environments; with kustomize, pins become unquoted image: lines in
environments/<env>/images/<component>.yaml patches, the only form Dependabot reads. Where the pins live is fixed
once the repo exists: init refuses a switch that would move them (exit 2) and says how to migrate; a Helm repo may
switch updater (both read its values files).

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> demo --app shop --component api=quay.io/acme/shop/api --component web=quay.io/acme/shop/web:8080',
    '<%= config.bin %> <%= command.id %> demo --from-snapshot snapshot.yaml --pin',
    'kubectl get snapshot shop-x7k2p -o yaml | <%= config.bin %> <%= command.id %> demo --from-snapshot -',
    '<%= config.bin %> <%= command.id %> demo --app shop --component api=quay.io/acme/shop/api --dry-run',
    '<%= config.bin %> <%= command.id %> demo --app shop --component api=quay.io/acme/shop/api:8080 --flavour helm',
    '<%= config.bin %> <%= command.id %> demo --app shop --component api=quay.io/acme/shop/api --updater dependabot',
    '<%= config.bin %> <%= command.id %> demo --git-remote git@github.com:acme/shop-gitops.git --push',
    'GITHUB_TOKEN=$(gh auth token) <%= config.bin %> <%= command.id %> demo --from-snapshot snapshot.yaml --github acme/shop-gitops',
  ]
  static override args = {
    dir: Args.string({ description: 'directory of the GitOps repo (created when missing)', default: '.' }),
  }
  static override flags = {
    app: Flags.string({ description: 'application name (a DNS-1123 label)' }),
    component: Flags.string({
      description: 'component as NAME=IMAGE[:PORT], image without tag (repeatable)',
      multiple: true,
    }),
    env: Flags.string({ description: 'environment name (repeatable; default dev, stage, prod)', multiple: true }),
    tag: Flags.string({ description: 'the tag Konflux moves to released images (default released)' }),
    argocd: Flags.string({
      description: 'Argo CD objects to write (default applicationset)',
      options: [...argocdModes],
    }),
    'destination-server': Flags.string({ description: 'cluster API URL Argo CD deploys to' }),
    'renovate-preset': Flags.string({ description: 'Renovate preset to extend instead of inline rules' }),
    'verify-key': Flags.string({
      description:
        'public key (PEM, e.g. the Konflux Chains cosign.pub) pinned digests must be signed by: recorded in verify.keys (repeatable)',
      multiple: true,
    }),
    'renovate-runner': Flags.string({
      description:
        'github-actions: write .github/workflows/renovate.yaml, which runs Renovate on a schedule, by hand and on release --notify --notify-via dispatch (default none: the hosted Renovate app)',
      options: ['none', 'github-actions'],
    }),
    ci: Flags.string({ description: 'CI workflow to write (default github)', options: [...ciModes] }),
    flavour: Flags.string({
      description:
        'kustomize: a base per component and an overlay per environment; helm: a chart and a values file per environment (default kustomize; fixed once the repo exists)',
      options: [...flavours],
    }),
    updater: Flags.string({
      description:
        'who keeps the image pins: renovate, or dependabot (GitHub only; writes .github/dependabot.yml) (default renovate; on a kustomize repo fixed once it exists)',
      options: [...updaters],
    }),
    'git-remote': Flags.string({ description: 'set origin to this URL (file://, ssh or https)' }),
    push: Flags.boolean({ description: 'push the branch to origin after committing', default: false }),
    branch: Flags.string({ description: 'branch Argo CD follows and the first commit goes to (default main)' }),
    github: Flags.string({
      description: 'create OWNER/REPO on GitHub if missing and push there (token from GITHUB_TOKEN or GH_TOKEN)',
    }),
    'github-api-url': Flags.string({ description: 'GitHub API URL, for GitHub Enterprise (https://HOST/api/v3)' }),
    private: Flags.boolean({
      description: 'create the GitHub repository private (default; --no-private for public)',
      default: true,
      allowNo: true,
    }),
    'from-snapshot': Flags.string({ description: 'derive app and components from a Konflux Snapshot (file or -)' }),
    pin: Flags.boolean({
      description: "pin every environment to the tag's current digest (or the Snapshot's digests)",
      default: false,
    }),
    'integration-test': Flags.boolean({
      description:
        'also write an IntegrationTestScenario and Tekton Pipeline that deploy each Snapshot to an ephemeral namespace (see integration add)',
      default: false,
    }),
    'dry-run': Flags.boolean({ description: 'print the diff, write nothing', default: false }),
    force: Flags.boolean({
      description: 'replace generated files you edited; adopt a directory that is not a konflux-gitops repo',
      default: false,
    }),
  }

  async run(): Promise<ScaffoldResult> {
    const { args, flags } = await this.parse(Init)
    const result = await initRepo({
      dir: args.dir,
      app: flags.app,
      components: flags.component ?? [],
      environments: flags.env ?? [],
      tag: flags.tag,
      argocd: flags.argocd as (typeof argocdModes)[number] | undefined,
      destinationServer: flags['destination-server'],
      renovatePreset: flags['renovate-preset'],
      verifyKeys: flags['verify-key'],
      renovateRunner: flags['renovate-runner'] as 'none' | 'github-actions' | undefined,
      ci: flags.ci as (typeof ciModes)[number] | undefined,
      flavour: flags.flavour as (typeof flavours)[number] | undefined,
      updater: flags.updater as (typeof updaters)[number] | undefined,
      gitRemote: flags['git-remote'],
      push: flags.push,
      branch: flags.branch,
      fromSnapshot: flags['from-snapshot'],
      pin: flags.pin,
      integrationTest: flags['integration-test'],
      dryRun: flags['dry-run'],
      force: flags.force,
      progress: (message) => this.progress(message),
      github: flags.github,
      githubApiUrl: flags['github-api-url'],
      private: flags.private,
      interactive: process.stdin.isTTY === true && !this.jsonEnabled() && !process.env.CI,
    })
    return this.report(result, describeResult, resultExitCode)
  }
}
