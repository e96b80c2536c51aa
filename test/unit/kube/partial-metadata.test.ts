import { describe, expect, it } from 'vitest'
import {
  asResourceEvents,
  assertPartialMetadataList,
  fromPartialMetadata,
} from '../../../lib/kube/partial-metadata.js'
import type { WatchEvent } from '../../../lib/kube/types.js'
import { resolvedOf } from './fakes/resources.js'

const secrets = resolvedOf('v1/secrets', 'Secret')
const metadata = { name: 's', namespace: 'a', uid: 'u-1', resourceVersion: '5' }
const partial = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata }

describe('metadata-only objects', () => {
  it('hands a PartialObjectMetadata on as the resource it describes, metadata only', () => {
    expect(fromPartialMetadata(partial, secrets, 'list v1/secrets')).toEqual({
      kind: 'Secret',
      apiVersion: 'v1',
      metadata,
    })
  })

  it('refuses a whole object where it asked for metadata only, quoting nothing of it', () => {
    const whole = { kind: 'Secret', apiVersion: 'v1', metadata, data: { p: 'c2VjcmV0LXZhbHVl' } }
    expect(() => fromPartialMetadata(whole, secrets, 'list v1/secrets')).toThrow(
      'list v1/secrets: asked for metadata only, the server sent Secret (v1); nothing of it is kept',
    )
    expect(() =>
      assertPartialMetadataList({ kind: 'SecretList', apiVersion: 'v1' }, 'list v1/secrets'),
    ).toThrow('the server sent SecretList (v1)')
    expect(() =>
      assertPartialMetadataList(
        { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1' },
        'list v1/secrets',
      ),
    ).not.toThrow()
  })

  it('turns every event of a metadata-only watch into the resource, bookmarks included', async () => {
    const served: WatchEvent[] = [
      { type: 'ADDED', object: partial },
      {
        type: 'BOOKMARK',
        object: { ...partial, metadata: { resourceVersion: '9' } } as WatchEvent['object'],
      },
    ]
    const events: WatchEvent[] = []
    for await (const e of asResourceEvents(toAsync(served), secrets, 'watch v1/secrets'))
      events.push(e)
    expect(events.map((e) => [e.type, e.object.kind, e.object.apiVersion])).toEqual([
      ['ADDED', 'Secret', 'v1'],
      ['BOOKMARK', 'Secret', 'v1'],
    ])
  })
})

async function* toAsync<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield await Promise.resolve(item)
}
