import { Args } from '@oclif/core'
import { BaseCommand, EXIT_CODES_HELP } from '../../src/cli/base-command.js'
import { formatImageRef, parseImageRef, repository } from '../../src/image-ref/index.js'

export interface ImageParseResult {
  reference: string
  registry: string
  path: string
  repository: string
  tag: string | null
  digest: string | null
}

export default class ImageParse extends BaseCommand {
  static override summary = 'Parse and normalise a container image reference'
  static override description =
    `Parses REFERENCE with the distribution reference grammar and prints its parts, normalised the way
docker and Renovate see it (nginx is docker.io/library/nginx). A wrong reference is a usage error that names the
part and the character where it goes wrong.

${EXIT_CODES_HELP}`
  static override examples = [
    '<%= config.bin %> <%= command.id %> quay.io/acme/shop/api:released@sha256:0db0a473a6abf5c15c424ab07cfbd5c40c06622fe648d4fe6a6b6abc224a0d0c',
    '<%= config.bin %> <%= command.id %> nginx --json',
  ]
  static override args = {
    reference: Args.string({ description: 'image reference, e.g. quay.io/acme/shop/api:released', required: true }),
  }

  async run(): Promise<ImageParseResult> {
    const { args } = await this.parse(ImageParse)
    const ref = parseImageRef(args.reference)
    const result: ImageParseResult = {
      reference: formatImageRef(ref),
      registry: ref.registry,
      path: ref.path,
      repository: repository(ref),
      tag: ref.tag ?? null,
      digest: ref.digest ?? null,
    }
    this.log(
      [
        `reference   ${result.reference}`,
        `registry    ${result.registry}`,
        `repository  ${result.repository}`,
        `tag         ${result.tag ?? '-'}`,
        `digest      ${result.digest ?? '-'}`,
      ].join('\n'),
    )
    return result
  }
}
