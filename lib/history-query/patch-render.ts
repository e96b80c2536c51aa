/**
 * A stored patch as people read it: `replace /spec/replicas: 2 → 3`. The old value
 * is not in an RFC 6902 patch; it is derived by applying the ops one by one to
 * the previous recorded version's object (when we have it), reading each op's
 * target just before the op changes it.
 */
import jsonPatch, { type Operation } from 'fast-json-patch'
import { decodePointer, decodeValue } from './patch-paths.js'

const { applyOperation, deepClone, getValueByPointer } = jsonPatch

export interface RenderedOp {
  readonly op: Operation['op']
  /** Decoded: a pointer into the object as served. */
  readonly path: string
  /** Present when the op had a value (add, replace, test). */
  readonly value?: unknown
  /** Present when derivable (a previous version to apply the patch to, and the target existed). */
  readonly old?: unknown
  /** The `from` of move and copy (fast-json-patch `compare` never emits them). */
  readonly from?: string
}

/** Reads a pointer, or undefined when the target is absent (getValueByPointer throws on some paths). */
function valueAt(document: unknown, pointer: string): unknown {
  try {
    return getValueByPointer(document, pointer) as unknown
  } catch {
    return undefined
  }
}

/** Each op decoded, with its old value when `previous` (the encoded object it applies to) is known. */
export function renderOps(patch: readonly Operation[], previous?: unknown): RenderedOp[] {
  let current: unknown = previous === undefined ? undefined : deepClone(previous)
  return patch.map((op) => {
    const old = current === undefined ? undefined : valueAt(current, op.path)
    const rendered: RenderedOp = {
      op: op.op,
      path: decodePointer(op.path),
      ...('value' in op ? { value: decodeValue(op.value) } : {}),
      ...(old !== undefined && op.op !== 'add' ? { old: decodeValue(old) } : {}),
      ...('from' in op ? { from: decodePointer(op.from) } : {}),
    }
    if (current !== undefined) {
      try {
        current = applyOperation(current, op, true, true).newDocument
      } catch {
        // The previous object is not the one this patch was made from (a gap): no more old values.
        current = undefined
      }
    }
    return rendered
  })
}

/** JSON, cut to `max` characters so one long ConfigMap value does not flood the terminal. */
export function shortJson(value: unknown, max = 120): string {
  const text = JSON.stringify(value) ?? 'undefined'
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** One line per op: `replace /spec/replicas: 2 → 3`, `add /x: "a"`, `remove /y (was "b")`. */
export function renderOpLine(op: RenderedOp, max = 120): string {
  const has = (key: 'old' | 'value') => key in op
  switch (op.op) {
    case 'add':
      return `add ${op.path}: ${shortJson(op.value, max)}`
    case 'replace':
      return `replace ${op.path}: ${has('old') ? shortJson(op.old, max) : '?'} → ${shortJson(op.value, max)}`
    case 'remove':
      return `remove ${op.path}${has('old') ? ` (was ${shortJson(op.old, max)})` : ''}`
    case 'move':
    case 'copy':
      return `${op.op} ${op.from ?? '?'} → ${op.path}`
    default:
      return `${op.op} ${op.path}${has('value') ? `: ${shortJson(op.value, max)}` : ''}`
  }
}
