import { spawn } from 'node:child_process'
import { UsageError, UserError } from '../cli/errors.js'
import { gitEnvironment } from '../git/environment.js'

/** One commit of `git log`, as history needs it. */
export interface LoggedCommit {
  readonly commit: string
  /** First parent (the branch's previous state), or null for a root commit. */
  readonly parent: string | null
  /** Committer date: when the change landed on the branch. */
  readonly date: string
  readonly author: { readonly name: string; readonly email: string }
  readonly message: string
}

function runGit(dir: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: dir, env: gitEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk) => {
      err += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'))
      else reject(new GitFailed(args, err.trim()))
    })
  })
}

export class GitFailed extends UserError {
  constructor(
    readonly args: readonly string[],
    readonly detail: string,
  ) {
    super(`git ${args[0]} failed: ${detail.split('\n')[0] ?? ''}`, { code: 'git-failed' })
  }
}

const FIELD = '\x1f'
const RECORD = '\x1e'

/**
 * Commits on the first-parent line of `ref` that touched any of `paths`, newest first. First parent only: what a
 * branch deployed is what its own line of commits held, whatever a merged branch did on the way.
 */
export async function commitsTouching(dir: string, ref: string, paths: readonly string[]): Promise<LoggedCommit[]> {
  const format = ['%H', '%P', '%cI', '%an', '%ae', '%B'].join(FIELD)
  const out = await runGit(dir, ['log', '--first-parent', `--format=${format}${RECORD}`, ref, '--', ...paths])
  const commits: LoggedCommit[] = []
  for (const record of out.split(RECORD)) {
    const trimmed = record.replace(/^\n/, '')
    if (trimmed === '') continue
    const [commit, parents, date, name, email, ...message] = trimmed.split(FIELD)
    commits.push({
      commit: commit!,
      parent: parents?.split(' ').filter(Boolean)[0] ?? null,
      date: date!,
      author: { name: name ?? '', email: email ?? '' },
      message: message.join(FIELD).trimEnd(),
    })
  }
  return commits
}

/** The full commit id REF names, or a clear error when it names none. */
/** `flag` names the option the ref came from, so the hint names only what the command has. */
export async function resolveCommit(dir: string, ref: string, flag = '--to'): Promise<string> {
  try {
    return (await runGit(dir, ['rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`])).trim()
  } catch (error) {
    if (error instanceof GitFailed) {
      throw new UsageError(`${flag} ${ref}: does not name a commit in ${dir}`, {
        code: 'unknown-ref',
        hint: `Give ${flag} a commit, tag or branch (git log --oneline lists commits)${flag === '--to' ? ', or use --steps N' : ''}.`,
      })
    }
    throw error
  }
}

/**
 * Reads files at revisions through one `git cat-file --batch` process: history asks for two versions of each pin
 * file per commit, and one process per read would cost more than the reading. Thin by design: the protocol is a
 * request line per object and a `<oid> <type> <size>` header before its bytes.
 */
export class RevisionReader {
  private readonly child
  private buffer = Buffer.alloc(0)
  private readonly waiting: Array<(value: Buffer | undefined) => void> = []
  private failed: Error | undefined
  private readonly cache = new Map<string, Promise<string | undefined>>()

  constructor(dir: string) {
    this.child = spawn('git', ['cat-file', '--batch'], {
      cwd: dir,
      env: gitEnvironment(),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.drain()
    })
    const fail = (error: Error) => {
      this.failed = error
      for (const resolve of this.waiting.splice(0)) resolve(undefined)
    }
    this.child.on('error', fail)
    this.child.on('close', () => fail(new Error('git cat-file ended')))
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const newline = this.buffer.indexOf(10)
      if (newline < 0) return
      const header = this.buffer.subarray(0, newline).toString('utf8')
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buffer = this.buffer.subarray(newline + 1)
        this.waiting.shift()!(undefined)
        continue
      }
      const size = Number(header.split(' ')[2])
      if (this.buffer.length < newline + 1 + size + 1) return
      const body = this.buffer.subarray(newline + 1, newline + 1 + size)
      this.buffer = this.buffer.subarray(newline + 1 + size + 1)
      this.waiting.shift()!(Buffer.from(body))
    }
  }

  /** The text of `path` at `rev`, or undefined when it does not exist there. */
  read(rev: string, path: string): Promise<string | undefined> {
    const key = `${rev}:${path}`
    let pending = this.cache.get(key)
    if (!pending) {
      pending = new Promise<Buffer | undefined>((resolve) => {
        if (this.failed) return resolve(undefined)
        this.waiting.push(resolve)
        this.child.stdin.write(`${key}\n`)
      }).then((bytes) => {
        if (bytes === undefined && this.failed) throw this.failed
        return bytes?.toString('utf8')
      })
      this.cache.set(key, pending)
    }
    return pending
  }

  close(): void {
    this.child.stdin.end()
  }
}

/** Date and subject of one commit, for naming a restore point. */
export async function describeCommit(
  dir: string,
  rev: string,
): Promise<{ commit: string; date: string; subject: string }> {
  const out = await runGit(dir, ['log', '-1', `--format=%H${FIELD}%cI${FIELD}%s`, rev, '--'])
  const [commit, date, subject] = out.trim().split(FIELD)
  return { commit: commit!, date: date!, subject: subject ?? '' }
}
