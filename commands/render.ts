import { Args, Flags } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../src/cli/base-command.js'
import { type RenderResult, readSnapshotInput, renderSnapshot } from '../src/render/index.js'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export default class Render extends BaseCommand {
  static override summary = "Render a Konflux Snapshot onto the repo's manifests, for an ephemeral test environment"
  static override description =
    `Writes a kustomize overlay that builds on an environment's overlay (or on the component bases
without --env) and sets every component of the Snapshot to its exact repo@sha256: digest; components not in the
Snapshot stay at the environment's pinned digests. The output is a kustomization that kubectl apply -k understands.

Without --build, stdout is the overlay folder (default: a new temporary folder). With --build, kustomize
(kustomize from PATH, else kubectl kustomize) builds it and stdout is the manifests, ready for kubectl apply -f -.
On a Helm repo the folder holds a values file for the chart instead, and --build runs helm template with it: every
namespaced object is set to --namespace (or the environment's), as kustomize's namespace: does, and a Snapshot image
is rendered repo@sha256:<digest> on every shape.

--snapshot takes a file, - for stdin, or the JSON text itself: Konflux passes an integration pipeline the Snapshot's
spec as JSON in its SNAPSHOT parameter, and that form is accepted as it is.

A Snapshot component the repo does not know, or whose image repository differs from the repo's, is an error;
with --allow-unknown it is a warning (unknown components are skipped, a different repository is deployed as the
Snapshot names it).

With --verify-key FILE (repeatable) or verify.keys in konflux-gitops.yaml, every Snapshot image must carry a cosign
signature by one of the keys (sha256-<hex>.sig tag or OCI referrer; an index by its index digest): an unsigned one
is refused (exit 1) and nothing is rendered, so the ephemeral environment never runs it. Keyless signatures are not
verified.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --snapshot snapshot.yaml --env stage --namespace pr-42 --build | kubectl apply -f -',
    'kubectl apply -k "$(<%= config.bin %> <%= command.id %> --snapshot snapshot.yaml --env stage)"',
    '<%= config.bin %> <%= command.id %> --snapshot "$SNAPSHOT" --namespace "$NAMESPACE" --build',
    'kubectl get snapshot shop-x7k2p -o yaml | <%= config.bin %> <%= command.id %> --snapshot - --out overlay --json',
  ]
  static override args = {
    dir: Args.string({ description: 'the GitOps repository (default: current folder)', default: '.' }),
  }
  static override flags = {
    snapshot: Flags.string({
      char: 's',
      description: 'Konflux Snapshot: a YAML/JSON file, - for stdin, or its JSON text',
      required: true,
    }),
    env: Flags.string({ char: 'e', description: "build on this environment's overlay (default: the component bases)" }),
    namespace: Flags.string({ char: 'n', description: "namespace to deploy into (default: the environment's)" }),
    out: Flags.string({ char: 'o', description: 'folder to write the overlay to (default: a new temporary folder)' }),
    build: Flags.boolean({
      description:
        'build the overlay with kustomize and print the manifests (on a Helm repo: helm template with the values)',
    }),
    'verify-key': Flags.string({
      description:
        "public key (PEM) every Snapshot image must be signed by (repeatable; also the repo's verify.keys); unsigned: nothing is rendered",
      multiple: true,
    }),
    'allow-unknown': Flags.boolean({
      description: 'warn instead of failing on Snapshot components the repo does not know or whose repository differs',
    }),
  }

  async run(): Promise<RenderResult> {
    const { args, flags } = await this.parse(Render)
    const snapshot = await readSnapshotInput(flags.snapshot, readStdin)
    const result = await renderSnapshot({
      dir: args.dir,
      snapshot,
      env: flags.env,
      namespace: flags.namespace,
      out: flags.out,
      build: flags.build,
      allowUnknown: flags['allow-unknown'],
      verifyKeys: flags['verify-key'],
    })
    for (const warning of result.warnings) process.stderr.write(`Warning: ${warning}\n`)
    if (!this.jsonEnabled()) {
      for (const image of result.images)
        this.progress(`${image.component.padEnd(20)} ${image.source.padEnd(8)} ${image.image}`)
      if (result.manifests !== null) process.stdout.write(result.manifests)
      else this.log(result.out ?? '')
    }
    return result
  }
}
