import { it } from 'vitest'
import { runSoak, type SoakOptions } from '../../test/soak/soak-driver.js'

/**
 * The full-size proof: 10,000 webhook events over 200 components, 1,000 malformed requests, the registry
 * behind 10 % 503 / 5 % 429 (Retry-After) / 2 % resets / slow answers, the daemon SIGKILLed at random moments.
 * Peer in the same run: the same workload with faults and kills off. Sizes: KG_SOAK_EVENTS, KG_SOAK_COMPONENTS.
 */
const events = Number(process.env.KG_SOAK_EVENTS ?? 10_000)
const components = Number(process.env.KG_SOAK_COMPONENTS ?? 200)

const base: Omit<SoakOptions, 'faults' | 'killEveryMs' | 'seed'> = {
  components,
  buildsPerComponent: 8,
  events,
  malformed: Math.round(events / 10),
  senders: 32,
  log: (line) => process.stderr.write(`${line}\n`),
}

function line(name: string, report: Awaited<ReturnType<typeof runSoak>>): string {
  return `${name.padEnd(22)} ${report.eventsPerSecond.toFixed(1).padStart(7)} events/s   event->tag p50 ${String(report.latencyMs.p50).padStart(6)} ms  p99 ${String(report.latencyMs.p99).padStart(6)} ms   kills ${report.kills}  PUTs ${report.manifestPuts}  redundant ${report.redundantPuts}  injected ${JSON.stringify(report.injected)}  final ${JSON.stringify(report.finalStates)}  wrong ${report.wrongTags.length}  backwards ${report.backwardsObservations.length}/${report.samples}  leaks ${report.secretLeaks.length}`
}

it('releaser soak, full size', async () => {
  const clean = await runSoak({ ...base, faults: {}, seed: 11 })
  const faulty = await runSoak({
    ...base,
    faults: { unavailable: 0.1, tooManyRequests: 0.05, retryAfterSeconds: 1, reset: 0.02, slowMs: [0, 50] },
    killEveryMs: [3000, 8000],
    seed: 12,
  })
  const out = [
    `releaser soak: ${events} events, ${components} components, ${base.malformed} malformed`,
    line('faults off, no kills', clean),
    line('faults + kill -9', faulty),
    `ratio events/s faults/clean: ${(faulty.eventsPerSecond / clean.eventsPerSecond).toFixed(2)}`,
    `malformed answers (faulty run): ${JSON.stringify(faulty.malformedAnswers)}`,
  ]
  process.stdout.write(`${out.join('\n')}\n`)
})
