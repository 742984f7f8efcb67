import type { SimpleGit, SimpleGitOptions } from 'simple-git'

/**
 * simple-git 4 refuses to run at all when the environment holds EDITOR, VISUAL, PAGER, GIT_SSH_COMMAND, GIT_ASKPASS,
 * GIT_CONFIG_* and similar keys, unless each category is allowed. Those guards exist for programs that pass untrusted
 * input to git. Here the environment is the user's own shell plus the author fallback (never input from a file), and
 * ssh/askpass/credential settings are exactly what a push needs, so git runs the way the user's own shell would.
 * Editors and pagers are dropped: every command passes its message with -m and output is captured, so they would
 * never run anyway.
 */
const NEVER_NEEDED = ['EDITOR', 'VISUAL', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'PAGER', 'GIT_PAGER']

/** The environment every git child process gets (simple-git here, or execFile/spawn elsewhere). */
export function gitEnvironment(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  for (const key of Object.keys(env)) if (NEVER_NEEDED.includes(key.toUpperCase())) delete env[key]
  return env
}

export interface GitClientOptions {
  /** Added to (and overriding) the user's environment. */
  readonly extraEnv?: NodeJS.ProcessEnv | undefined
  /** Porcelain output starts with a significant space: pass false where it is parsed. Default true. */
  readonly trimmed?: boolean | undefined
  /** Kill git when it produces no output for this long. */
  readonly timeoutMs?: number | undefined
}

/** The one way this tool opens simple-git; imported on first use so `--help` does not load it. */
export async function gitClient(dir: string, options: GitClientOptions = {}): Promise<SimpleGit> {
  const { simpleGit } = await import('simple-git')
  const env = gitEnvironment(options.extraEnv)
  const settings: Partial<SimpleGitOptions> = {
    baseDir: dir,
    trimmed: options.trimmed ?? true,
    allowEnvironment: Object.keys(env),
    unsafe: {
      allowUnsafeEditor: true,
      allowUnsafeAskPass: true,
      allowUnsafeConfigPaths: true,
      allowUnsafeConfigEnvCount: true,
      allowUnsafeExec: true,
      allowUnsafeDiffExternal: true,
      allowUnsafePager: true,
      allowUnsafeGitProxy: true,
      allowUnsafeTemplateDir: true,
      allowUnsafeSshCommand: true,
      allowUnsafeCredentialHelper: true,
      // A user's GIT_CONFIG_* may set these too (husky's core.hooksPath, commit signing, url.insteadOf, LFS
      // filters): their commits and pushes must run as they do in the user's shell, hooks included.
      allowUnsafeHooksPath: true,
      allowUnsafeGpgProgram: true,
      allowUnsafeUrlRewrite: true,
      allowUnsafeFilter: true,
      allowUnsafeInclude: true,
      allowUnsafeFsMonitor: true,
    },
  } as Partial<SimpleGitOptions>
  if (options.timeoutMs !== undefined) settings.timeout = { block: options.timeoutMs }
  return simpleGit(settings).env(env)
}
