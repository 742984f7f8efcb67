/**
 * A 10,000-component Snapshot: the daemon settles it within the deployment's memory limit (512 MiB) and /healthz
 * keeps answering within 1 s while it is parsed, planned and stored (and is reported, not asserted, while the
 * 10,000 retags are worked: that phase's pauses depend on the journal and on how busy the machine is). Real process; the registry is a loopback
 * server that knows no image (every retag fails at once, visibly: 404) because the point is the daemon.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { signBody } from '../../src/releaser/index.js'
import { freePort } from '../harness/registry.js'
import { withTempDir } from '../helpers/cli.js'
import { startDaemon } from '../releaser/daemon-process.js'
import { snapshotBody } from '../releaser/snapshots.js'

const SECRET = 'big-snapshot-webhook-secret-1f3e9b'
const COMPONENTS = Number(process.env.KONFLUX_GITOPS_BIG_SNAPSHOT ?? 10_000)
const MEMORY_LIMIT = 512 * 1024 * 1024

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}

describe('a 10,000-component Snapshot', () => {
  it('settles within the memory limit while /healthz answers within 1 s', async () => {
    await withTempDir(async (dir) => {
      const secretFile = join(dir, 'secret')
      await writeFile(secretFile, SECRET)
      const empty = createServer((req, res) => {
        res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json' })
        res.end(req.method === 'HEAD' ? undefined : '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}')
      })
      await new Promise<void>((resolve) => empty.listen(0, '127.0.0.1', resolve))
      const registry = `127.0.0.1:${(empty.address() as AddressInfo).port}`
      const daemon = await startDaemon(
        [
          ...['--state', join(dir, 'state'), '--init-state', '--webhook-secret-file', secretFile],
          ...['--allow-source', registry, '--body-limit', String(32 * 1024 * 1024), '--max-attempts', '1'],
        ],
        { port: await freePort(), env: { KONFLUX_GITOPS_PLAIN_HTTP: registry, KONFLUX_GITOPS_LOG_LEVEL: 'warn' } },
      )
      try {
        const components = Array.from({ length: COMPONENTS }, (_, i) => ({
          name: `c${i}`,
          image: `${registry}/acme/c${i}@sha256:${i.toString(16).padStart(64, '0')}`,
        }))
        const body = snapshotBody('big-1', '2026-11-24T09:00:00Z', components)
        let stop = false
        let worst = 0
        let worstAccepting = 0
        let accepting = true
        let probes = 0
        const prober = (async () => {
          while (!stop) {
            const t = performance.now()
            const res = await fetch(`${daemon.url}/healthz`)
            await res.arrayBuffer()
            const took = performance.now() - t
            worst = Math.max(worst, took)
            if (accepting) worstAccepting = Math.max(worstAccepting, took)
            probes++
            await new Promise((resolve) => setTimeout(resolve, 20))
          }
        })()
        const started = performance.now()
        const res = await fetch(`${daemon.url}/v1/snapshots`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-signature-256': signBody(SECRET, body) },
          body,
        })
        const accepted = (await res.json()) as { id: string }
        const acceptMs = performance.now() - started
        // The probe in flight when the 202 came still counts for the accepting phase.
        await new Promise((resolve) => setTimeout(resolve, 100))
        accepting = false
        expect(res.status).toBe(202)
        let state = 'pending'
        while (state === 'pending') {
          await new Promise((resolve) => setTimeout(resolve, 250))
          const release = (await (await fetch(`${daemon.url}/v1/releases/${accepted.id}`)).json()) as { state: string }
          state = release.state
          if (performance.now() - started > 540_000) throw new Error('not settled')
        }
        const settleMs = performance.now() - started
        stop = true
        await prober
        const rss = await peakRss(daemon.child.pid!)
        console.log(
          `big snapshot: ${COMPONENTS} components, ${(body.length / 1e6).toFixed(1)} MB body, 202 after ${Math.round(acceptMs)} ms, settled (${state}) after ${Math.round(settleMs)} ms, peak RSS ${Math.round(rss / 1048576)} MiB, /healthz worst ${Math.round(worstAccepting)} ms while accepting, ${Math.round(worst)} ms overall (${probes} probes)`,
        )
        expect(state).toBe('failed')
        expect(rss).toBeLessThan(MEMORY_LIMIT)
        expect(worstAccepting).toBeLessThan(1000)
      } finally {
        daemon.kill('SIGTERM')
        await daemon.exited
        empty.closeAllConnections()
        await new Promise((resolve) => empty.close(resolve))
      }
    })
  }, 600_000)
})
