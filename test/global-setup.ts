import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** CLI tests run the built binary: make sure dist/ is current before any test starts. */
export default function setup(): void {
  if (process.env.KONFLUX_GITOPS_SKIP_BUILD === '1' && existsSync(join(root, 'dist'))) return
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
}
