import { describe, expect, test } from 'vitest'
import { httpsRepoUrl } from '../../src/integration/plan.js'

describe('the IntegrationTestScenario git resolver URL is https://', () => {
  test.each([
    ['https://github.com/acme/shop-gitops.git', 'https://github.com/acme/shop-gitops.git'],
    ['git@github.com:acme/shop-gitops.git', 'https://github.com/acme/shop-gitops.git'],
    ['git@gitlab.example.com:group/sub/shop.git', 'https://gitlab.example.com/group/sub/shop.git'],
    ['ssh://git@github.com/acme/shop-gitops.git', 'https://github.com/acme/shop-gitops.git'],
    ['ssh://git@git.example.com:2222/acme/shop.git', 'https://git.example.com/acme/shop.git'],
  ])('%s → %s', (input, expected) => {
    expect(httpsRepoUrl(input)).toBe(expected)
  })

  test.each([
    'http://git.example.com/shop.git',
    '/srv/git/shop.git',
    'file:///srv/git/shop.git',
    'https://',
    'https://host',
  ])('%s is refused with a hint', (input) => {
    expect(() => httpsRepoUrl(input)).toThrow(/not an https:\/\/ URL/)
  })
})
