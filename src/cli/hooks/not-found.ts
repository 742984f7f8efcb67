import type { Hook } from '@oclif/core'
import { toConfiguredId } from '@oclif/core'
import levenshtein from 'fast-levenshtein'

/**
 * An unknown command names the nearest one and exits 2 (usage). On a terminal it first asks "Run … instead?" and
 * runs the answer. Written here rather than taken from @oclif/plugin-not-found, which does the same on a terminal but
 * brings a second major version of @inquirer/prompts (about 20 packages) into every install.
 */
const hook: Hook.CommandNotFound = async function (options) {
  const visible = options.config.commands.filter((command) => !command.hidden)
  const candidates = [...visible.map((command) => command.id), ...visible.flatMap((command) => command.aliases)]
  const asTyped = toConfiguredId(options.id, options.config)
  const nearest = candidates
    .map((id) => ({ id, distance: levenshtein.get(options.id, id) }))
    .sort((a, b) => a.distance - b.distance)[0]
  const suggested = nearest ? `${options.config.bin} ${toConfiguredId(nearest.id, options.config)}` : undefined
  if (nearest && process.stdin.isTTY && process.stderr.isTTY) {
    const { confirm } = await import('@inquirer/prompts')
    const run = await confirm(
      { message: `"${asTyped}" is not a ${options.config.bin} command. Run "${suggested}" instead?`, default: true },
      { output: process.stderr },
    ).catch(() => false)
    if (run) {
      // oclif joins every word before the first flag into the id ("imag:pars:quay.io/x:tag"), and a tag's colon
      // would split wrongly: take the words as typed, less as many as the suggested command has.
      const words = nearest.id.split(':').length
      const argv = options.argv?.length ? options.argv : process.argv.slice(2 + words)
      return options.config.runCommand(nearest.id, argv)
    }
  }
  const suggestion = suggested ? ` Did you mean "${suggested}"?` : ''
  process.stderr.write(`Error: "${asTyped}" is not a ${options.config.bin} command.${suggestion}\n`)
  process.stderr.write(`Hint: run "${options.config.bin} --help" for the list of commands.\n`)
  this.exit(2)
}

export default hook
