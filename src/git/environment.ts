import type { SimpleGitOptions } from 'simple-git'

/**
 * simple-git 4 refuses to run at all when the environment holds EDITOR, VISUAL, PAGER, GIT_SSH_COMMAND, GIT_ASKPASS
 * and similar keys, unless each category is allowed. Here the environment is the user's own shell (never input
 * from a file), and ssh/askpass settings are exactly what a push needs, so those categories are allowed. Editors
 * and pagers are dropped instead: every command passes its message with -m and output is captured, so they would
 * never run anyway.
 */
const NEVER_NEEDED = ['EDITOR', 'VISUAL', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'PAGER', 'GIT_PAGER']

export function gitEnvironment(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  for (const key of Object.keys(env)) if (NEVER_NEEDED.includes(key.toUpperCase())) delete env[key]
  return env
}

export function gitOptions(dir: string, env: NodeJS.ProcessEnv): Partial<SimpleGitOptions> {
  return {
    baseDir: dir,
    trimmed: true,
    allowEnvironment: Object.keys(env),
    unsafe: {
      allowUnsafeAskPass: true,
      allowUnsafeSshCommand: true,
      allowUnsafeConfigPaths: true,
      allowUnsafeConfigEnvCount: true,
      allowUnsafeGitProxy: true,
    },
  } as Partial<SimpleGitOptions>
}
