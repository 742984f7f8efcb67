import { Command, Errors } from '@oclif/core'
import { type ExitCode, UserError } from './errors.js'

export const EXIT_CODES_HELP = `EXIT CODES
  0  success, nothing to report
  1  findings, conflicts or a failed operation (the output says which)
  2  usage error: a flag, argument or input file is wrong`

/**
 * The shape every command shares: flags are parsed in the command, the work is one call into src/,
 * and the typed result is returned so `--json` prints it as one JSON document on stdout.
 * Human output goes through `this.log` (silenced under --json); progress and warnings go to stderr.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  /** Set the exit code without throwing, so the result (and --json document) is still printed. */
  protected exitWith(code: ExitCode): void {
    process.exitCode = code
  }

  /** Print a result's human summary, set the exit code it calls for, and return it (printed as JSON under --json). */
  protected report<T>(result: T, describe: (result: T) => string, exitCode?: (result: T) => ExitCode): T {
    this.log(describe(result))
    if (exitCode) this.exitWith(exitCode(result))
    return result
  }

  /** Progress and notes for humans: always stderr, never under --json unless it is a warning. */
  protected progress(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${message}\n`)
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof UserError) {
      if (this.jsonEnabled()) {
        this.logJson({ error: { code: err.code, message: err.message, hint: err.hint ?? null, exit: err.exit } })
      } else {
        process.stderr.write(`Error: ${err.message}\n`)
        if (err.hint) process.stderr.write(`Hint: ${err.hint}\n`)
      }
      process.exitCode = err.exit
      // Exit via oclif so the process ends with our code and no stack trace is printed.
      throw new Errors.ExitError(err.exit)
    }
    return super.catch(err)
  }
}
