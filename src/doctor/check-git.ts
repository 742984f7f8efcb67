import { compareCommits, localBranchCommit, lsRemote } from '../git/index.js'
import type { CheckLine, DoctorContext } from './types.js'

function gitMessage(error: unknown): string {
  const text = (error as Error).message ?? String(error)
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^hint:/i.test(l))
  // Credentials in an https remote URL must never reach the output.
  return (lines.slice(-2).join(' / ') || 'no answer').replace(/\/\/[^/@\s]+@/g, '//***@')
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@\s]+@/g, '//***@')
}

/** Git: the remote is set and answers, the deploy branch exists there, the local branch is level with it. */
export async function checkGit(
  ctx: DoctorContext,
  remoteUrlValue: string | undefined,
  isRepo: boolean,
  timeoutMs: number,
): Promise<CheckLine[]> {
  const spec = ctx.spec
  const branch = spec?.branch ?? 'main'
  if (!isRepo) {
    return [
      {
        id: 'git.repository',
        link: 'git',
        status: 'fail',
        message: `${ctx.dir} is not the top of a git repository: Argo CD and ${ctx.spec?.updater === 'dependabot' ? 'Dependabot' : 'Renovate'} read from git`,
        fix: 'Run `npx konflux-gitops init --git-remote URL --push` in it (or `git init` and push it yourself).',
      },
    ]
  }
  if (!remoteUrlValue) {
    return [
      {
        id: 'git.remote',
        link: 'git',
        status: 'fail',
        message: `no remote "${ctx.remote}": nothing Argo CD could read from`,
        fix: `Add it: \`git remote add ${ctx.remote} URL && git push -u ${ctx.remote} ${branch}\` (or \`init --git-remote URL --push\`).`,
      },
    ]
  }
  const lines: CheckLine[] = []
  let refs: Map<string, string>
  try {
    refs = await lsRemote(ctx.dir, ctx.remote, timeoutMs)
  } catch (error) {
    return [
      {
        id: 'git.remote',
        link: 'git',
        status: 'fail',
        message: `remote ${ctx.remote} (${redactUrl(remoteUrlValue)}) cannot be reached: ${gitMessage(error)}`,
        fix: `Check the URL (\`git remote set-url ${ctx.remote} URL\`), network and credentials (ssh key or credential helper); \`git ls-remote ${ctx.remote}\` shows the same error.`,
      },
    ]
  }
  lines.push({
    id: 'git.remote',
    link: 'git',
    status: 'ok',
    message: `remote ${ctx.remote} (${redactUrl(remoteUrlValue)}) answers with ${refs.size} branch(es)`,
    fix: null,
  })
  const remoteHead = refs.get(`refs/heads/${branch}`)
  if (!remoteHead) {
    lines.push({
      id: 'git.branch',
      link: 'git',
      status: 'fail',
      message: `the deploy branch ${branch} does not exist on ${ctx.remote}: Argo CD has nothing to sync`,
      fix: `Push it: \`git push -u ${ctx.remote} ${branch}\`, or set branch: in konflux-gitops.yaml to the branch Argo CD follows.`,
    })
    return lines
  }
  const local = await localBranchCommit(ctx.dir, branch)
  if (!local) {
    lines.push({
      id: 'git.branch',
      link: 'git',
      status: 'warn',
      message: `${branch} exists on ${ctx.remote} (${remoteHead.slice(0, 12)}) but not locally`,
      fix: `\`git fetch ${ctx.remote} && git switch ${branch}\` before editing, so your changes start from what Argo CD deploys.`,
    })
    return lines
  }
  const compared = await compareCommits(ctx.dir, local, remoteHead)
  if (compared === 'unknown') {
    lines.push({
      id: 'git.branch',
      link: 'git',
      status: 'warn',
      message: `local ${branch} is behind ${ctx.remote}/${branch}: the remote has commits not fetched here (${remoteHead.slice(0, 12)})`,
      fix: `\`git pull ${ctx.remote} ${branch}\` (${ctx.spec?.updater === 'dependabot' ? 'Dependabot' : 'Renovate'} merges land on the remote).`,
    })
  } else if (compared.ahead > 0 || compared.behind > 0) {
    const parts = [
      compared.ahead ? `${compared.ahead} commit(s) ahead (not deployed until pushed)` : '',
      compared.behind ? `${compared.behind} behind` : '',
    ].filter(Boolean)
    lines.push({
      id: 'git.branch',
      link: 'git',
      status: 'warn',
      message: `local ${branch} is ${parts.join(' and ')} of ${ctx.remote}/${branch}`,
      fix: compared.behind
        ? `\`git pull --rebase ${ctx.remote} ${branch}\`${compared.ahead ? ', then push' : ''}.`
        : `\`git push ${ctx.remote} ${branch}\` when the change should deploy.`,
    })
  } else {
    lines.push({
      id: 'git.branch',
      link: 'git',
      status: 'ok',
      message: `${branch} on ${ctx.remote} is ${remoteHead.slice(0, 12)}, level with the local branch`,
      fix: null,
    })
  }
  return lines
}
