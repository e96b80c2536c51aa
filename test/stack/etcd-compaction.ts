// Compaction through etcd's JSON gateway, done the way kube-apiserver's own compactor does it:
// record the revision under compact_rev_key, then compact. The API server watches that key
// (only when --etcd-compaction-interval is non-zero) and its watch cache then drops the list
// snapshots older than the revision, so continue tokens really expire.

const compactRevKey = Buffer.from('compact_rev_key').toString('base64')

interface RangeResponse {
  header: { revision: string }
  kvs?: { version: string }[]
}

interface TxnResponse {
  header: { revision: string }
  succeeded?: boolean
}

async function post<T>(endpoint: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${endpoint}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${text}`)
  return JSON.parse(text) as T
}

/** Compacts etcd at a revision newer than anything read before the call; returns it. */
export async function compactAtCurrentRevision(endpoint: string): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await post<RangeResponse>(endpoint, '/v3/kv/range', { key: compactRevKey })
    const version = current.kvs?.[0]?.version ?? '0'
    const target = Number(current.header.revision) + 1
    // The put is itself a write, so every resourceVersion seen before now ends up < target.
    const txn = await post<TxnResponse>(endpoint, '/v3/kv/txn', {
      compare: [{ target: 'VERSION', key: compactRevKey, result: 'EQUAL', version }],
      success: [
        {
          requestPut: { key: compactRevKey, value: Buffer.from(String(target)).toString('base64') },
        },
      ],
    })
    if (!txn.succeeded) continue
    const revision = Number(txn.header.revision)
    await post(endpoint, '/v3/kv/compaction', { revision, physical: true })
    return revision
  }
  throw new Error('etcd compaction: compact_rev_key kept changing under us')
}
