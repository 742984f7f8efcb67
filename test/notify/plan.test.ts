import { describe, expect, test } from 'vitest'
import {
  dispatchPayload,
  type MovedImage,
  parseNotifyTarget,
  planNotifications,
  tickManualJob,
} from '../../src/notify/index.js'

const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`
const moved = (repository: string, n: number, snapshot = 'shop-1'): MovedImage => ({
  repository,
  tag: 'released',
  digest: digest(n),
  snapshot,
  component: repository.split('/').pop(),
})

describe('planNotifications', () => {
  test('one notification per repository per Snapshot, however many of its images moved', () => {
    const plans = planNotifications(
      [
        moved('quay.io/acme/shop/api', 1),
        moved('quay.io/acme/shop/web', 2),
        moved('quay.io/acme/shop/api', 3, 'shop-2'),
      ],
      [{ repository: 'acme/shop-gitops' }, { repository: 'Acme/Shop-GitOps', via: 'dispatch' }],
    )
    expect(plans.map((p) => [p.repository, p.snapshot, p.images.length, p.via])).toEqual([
      ['acme/shop-gitops', 'shop-1', 2, 'dashboard'],
      ['acme/shop-gitops', 'shop-2', 1, 'dashboard'],
    ])
  })

  test('each repository hears only about the images it tracks; nothing moved, nothing sent', () => {
    const targets = [
      { repository: 'acme/shop-gitops', images: ['quay.io/acme/shop'] },
      { repository: 'acme/billing-gitops', images: ['quay.io/acme/billing/'] },
    ]
    const plans = planNotifications([moved('quay.io/acme/shop/api', 1), moved('quay.io/acme/shopping/x', 2)], targets)
    expect(plans).toHaveLength(1)
    expect(plans[0]?.images.map((i) => i.repository)).toEqual(['quay.io/acme/shop/api'])
    expect(planNotifications([], targets)).toEqual([])
  })

  test('the dispatch payload names every moved image with its digest and the Snapshot', () => {
    const [plan] = planNotifications([moved('quay.io/acme/shop/api', 1)], [{ repository: 'acme/g' }], 'dispatch')
    expect(dispatchPayload(plan!)).toEqual({
      snapshot: 'shop-1',
      images: [{ repository: 'quay.io/acme/shop/api', tag: 'released', digest: digest(1), component: 'api' }],
    })
  })
})

describe('the Dependency Dashboard checkbox', () => {
  const body =
    '## Other\n\n - [ ] <!-- rebase-branch=x -->x\n\n---\n\n- [ ] <!-- manual job -->Check this box to trigger a request for Renovate to run again on this repository\n'
  test('is ticked once; a ticked box is left alone; no box is reported', () => {
    const ticked = tickManualJob(body)
    expect(ticked.status).toBe('ticked')
    const text = 'body' in ticked ? ticked.body : ''
    expect(text).toContain('- [x] <!-- manual job -->Check this box')
    expect(text).toContain(' - [ ] <!-- rebase-branch=x -->')
    expect(tickManualJob(text)).toEqual({ status: 'already-ticked' })
    expect(tickManualJob('## Dashboard without the app box')).toEqual({ status: 'no-checkbox' })
  })
})

test('--notify takes github:OWNER/REPO and says so otherwise', () => {
  expect(parseNotifyTarget('github:acme/shop-gitops')).toEqual({ repository: 'acme/shop-gitops' })
  for (const bad of ['acme', 'github:acme/shop/x', 'gitlab:acme/x', 'https://github.com/acme/x']) {
    expect(() => parseNotifyTarget(bad), bad).toThrow(/expected github:OWNER\/REPO/)
  }
})

test("the releaser's notify list is checked, naming the entry", async () => {
  const { parseNotifyConfig } = await import('../../src/notify/index.js')
  expect(
    parseNotifyConfig(
      [{ repository: 'github:acme/shop-gitops', images: ['quay.io/acme/shop'], via: 'dispatch' }],
      'c.yaml',
    ),
  ).toEqual([{ repository: 'acme/shop-gitops', images: ['quay.io/acme/shop'], via: 'dispatch' }])
  expect(() => parseNotifyConfig([{ repository: 'github:acme/x', via: 'email' }], 'c.yaml')).toThrow(
    /c\.yaml: notify\.0\.via/,
  )
  expect(() => parseNotifyConfig([{ repository: 'github:acme' }], 'c.yaml')).toThrow(/notify\.0\.repository/)
})
