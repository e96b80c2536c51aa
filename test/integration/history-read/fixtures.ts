/**
 * The seeded story the read tests check against:
 *
 * Deployment shop/web (cluster prod-eu-1): created 10:00 (rv 100), scaled and re-imaged 10:05
 * (rv 105), relabelled 10:10 (rv 110), changed behind a watch outage and found by the reconcile
 * 10:20 (rv 130, incomplete), deleted 10:30 (rv 140); created again under a new uid 10:40 (rv 150).
 *
 * ConfigMaps (cluster prod-eu-1): shop/settings created 10:00 and changed 10:15; shop/old created
 * 10:02 and deleted 10:20; batch/late created 10:25 (after the first two points); batch/tie
 * written twice in one watch batch at 10:03 (rv 999 then rv 1000: the later has more digits).
 * The same names in cluster other-1, and a Deployment, must never leak into the answers.
 */
import { at, configMap, deployment, type SeedObject } from './seed-history.js'

export const CLUSTER = 'prod-eu-1'

export const webV1 = deployment('shop', 'web', { replicas: 2, image: 'nginx:1.25' })
const webV2 = deployment('shop', 'web', { replicas: 3, image: 'nginx:1.26' })
const webV3 = deployment('shop', 'web', {
  replicas: 3,
  image: 'nginx:1.26',
  labels: { 'tier.example.com/role': 'frontend' },
})
export const webV4 = deployment('shop', 'web', {
  replicas: 5,
  image: 'nginx:1.27',
  labels: { 'tier.example.com/role': 'frontend' },
})

export const webStory: SeedObject = {
  cluster: CLUSTER,
  resource: 'apps/v1/deployments',
  uid: 'web-uid-1',
  steps: [
    { at: at('10:00'), rv: '100', type: 'ADDED', object: webV1 },
    { at: at('10:05'), rv: '105', type: 'MODIFIED', object: webV2 },
    { at: at('10:10'), rv: '110', type: 'MODIFIED', object: webV3 },
    {
      at: at('10:20'),
      rv: '130',
      type: 'MODIFIED',
      object: webV4,
      source: 'reconcile',
      complete: false,
    },
    { at: at('10:30'), rv: '140', type: 'DELETED', object: webV4 },
  ],
}

export const webAgain: SeedObject = {
  cluster: CLUSTER,
  resource: 'apps/v1/deployments',
  uid: 'web-uid-2',
  steps: [{ at: at('10:40'), rv: '150', type: 'ADDED', object: webV1 }],
}

const cm = (uid: string, steps: SeedObject['steps'], cluster = CLUSTER): SeedObject => ({
  cluster,
  resource: 'v1/configmaps',
  uid,
  steps,
})

export const configMapStories: SeedObject[] = [
  cm('settings-uid', [
    {
      at: at('10:00'),
      rv: '200',
      type: 'ADDED',
      object: configMap('shop', 'settings', { 'nginx.conf': 'listen 80;', mode: 'a' }),
    },
    {
      at: at('10:15'),
      rv: '215',
      type: 'MODIFIED',
      object: configMap('shop', 'settings', { 'nginx.conf': 'listen 8080;' }),
    },
  ]),
  cm('old-uid', [
    { at: at('10:02'), rv: '202', type: 'ADDED', object: configMap('shop', 'old', { k: 'v' }) },
    { at: at('10:20'), rv: '220', type: 'DELETED', object: configMap('shop', 'old', { k: 'v' }) },
  ]),
  cm('late-uid', [
    { at: at('10:25'), rv: '225', type: 'ADDED', object: configMap('batch', 'late', { k: 'v' }) },
  ]),
  cm('tie-uid', [
    { at: at('10:03'), rv: '999', type: 'ADDED', object: configMap('batch', 'tie', { n: '1' }) },
    {
      at: at('10:03'),
      rv: '1000',
      type: 'MODIFIED',
      object: configMap('batch', 'tie', { n: '2' }),
    },
  ]),
  // Another cluster: the same names, later versions; never part of prod-eu-1's answers.
  cm(
    'other-settings-uid',
    [
      {
        at: at('10:01'),
        rv: '7',
        type: 'ADDED',
        object: configMap('shop', 'settings', { other: 'cluster' }),
      },
    ],
    'other-1',
  ),
]

export const allStories: SeedObject[] = [webStory, webAgain, ...configMapStories]
