import type { Db } from 'mongodb'
import type { HistoryDocument } from '../../../lib/store/history/history-document.js'

/** The history of one uid, oldest version first (resourceVersions are decimal on etcd). */
export async function historyOfUid(db: Db, uid: string): Promise<HistoryDocument[]> {
  const docs = await db.collection<HistoryDocument>('object_history').find({ uid }).toArray()
  return docs.sort((a, b) => Number(a.resourceVersion) - Number(b.resourceVersion))
}

/** A patch in a stable order, to compare with an expected one. */
export function sortedPatch(patch: readonly { path: string; op: string }[]) {
  return [...patch].sort((a, b) => `${a.path}${a.op}`.localeCompare(`${b.path}${b.op}`))
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
