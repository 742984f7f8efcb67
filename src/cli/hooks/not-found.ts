import type { Hook } from '@oclif/core'
import { toConfiguredId } from '@oclif/core'
import levenshtein from 'fast-levenshtein'

/**
 * On a terminal, @oclif/plugin-not-found asks "Did you mean …?" and runs the answer. Without a terminal (CI,
 * scripts) it only says the command is unknown; there we still name the nearest command, then exit 2 (usage).
 */
const hook: Hook.CommandNotFound = async function (options) {
  if (process.stdin.isTTY) {
    const { default: pluginHook } = await import('@oclif/plugin-not-found')
    return pluginHook.call(this, options)
  }
  const visible = options.config.commands.filter((command) => !command.hidden)
  const candidates = [...visible.map((command) => command.id), ...visible.flatMap((command) => command.aliases)]
  const asTyped = toConfiguredId(options.id, options.config)
  const nearest = candidates
    .map((id) => ({ id, distance: levenshtein.get(options.id, id) }))
    .sort((a, b) => a.distance - b.distance)[0]
  const suggestion = nearest
    ? ` Did you mean "${options.config.bin} ${toConfiguredId(nearest.id, options.config)}"?`
    : ''
  process.stderr.write(`Error: "${asTyped}" is not a ${options.config.bin} command.${suggestion}\n`)
  process.stderr.write(`Hint: run "${options.config.bin} --help" for the list of commands.\n`)
  this.exit(2)
}

export default hook
