/**
 * Runs the mongosh queries printed in docs/history.md as they are written, so
 * the docs cannot drift from what works: each ```js block follows a
 * `<!-- query: <id> -->` marker. mongosh awaits every call by itself and takes
 * a projection as find's second argument; the driver needs `await` and
 * `{projection}`. Those two differences are all this shim bridges.
 */
import { readFileSync } from 'node:fs'

const DOCS = new URL('../../../docs/history.md', import.meta.url)

/** The docs' query blocks by id. */
export function docsQueries(markdown = readFileSync(DOCS, 'utf8')): Map<string, string> {
  const blocks = new Map<string, string>()
  for (const m of markdown.matchAll(/<!-- query: ([\w-]+) -->\s*```js\n([\s\S]*?)```/g))
    blocks.set(m[1]!, m[2]!)
  return blocks
}

/** What a block touches: `db.<collection>` and `db.getCollection(name)`. */
export interface ShellDb {
  collection(name: string): unknown
}

export interface ShellResult {
  /** The value of an expression block (a cursor's documents, read to the end). */
  readonly value: unknown
  /** What `print` and `printjson` were given, in order. */
  readonly printed: unknown[]
}

type AsyncFn = (...args: unknown[]) => Promise<unknown>
const AsyncFunction = Object.getPrototypeOf(async () => {
  await Promise.resolve()
}).constructor as new (...args: string[]) => AsyncFn

/** A collection as mongosh shows it: find(filter, projection). */
function shellCollection(collection: Record<string, unknown>) {
  return new Proxy(collection, {
    get(target, prop) {
      if (prop === 'find')
        return (filter: unknown, projection?: unknown) =>
          (target.find as (f: unknown, o: unknown) => unknown).call(
            target,
            filter,
            projection === undefined ? {} : { projection },
          )
      const value = Reflect.get(target, prop) as unknown
      return typeof value === 'function' ? (value as AsyncFn).bind(target) : value
    },
  })
}

function shellDb(db: ShellDb) {
  const collection = (name: string) =>
    shellCollection(db.collection(name) as Record<string, unknown>)
  return new Proxy(
    {},
    { get: (_t, prop) => (prop === 'getCollection' ? collection : collection(String(prop))) },
  )
}

function compile(code: string): AsyncFn {
  const awaited = code.replace(/(^|[^.\w$])db\./g, '$1await db.')
  const params = ['db', 'ISODate', 'print', 'printjson']
  try {
    return new AsyncFunction(...params, `return (${awaited.trim().replace(/;$/, '')})`)
  } catch {
    return new AsyncFunction(...params, awaited)
  }
}

export async function runShellQuery(db: ShellDb, code: string): Promise<ShellResult> {
  const printed: unknown[] = []
  const value = await compile(code)(
    shellDb(db),
    (text: string) => new Date(text),
    (...parts: unknown[]) => printed.push(parts.join(' ')),
    (value: unknown) => printed.push(value),
  )
  const cursor = value as { toArray?: () => Promise<unknown[]> } | undefined
  return { value: typeof cursor?.toArray === 'function' ? await cursor.toArray() : value, printed }
}
