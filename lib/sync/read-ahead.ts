/**
 * Yields what `source` yields, reading up to `max` items ahead while `ready`
 * is pending: the list's first pages arrive while the version index loads, and
 * memory stays bounded by `max` pages. Once `ready` settles (either way), the
 * items pass through one at a time as before.
 */
export async function* readAhead<T>(
  source: AsyncIterable<T>,
  ready: Promise<unknown>,
  max: number,
): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]()
  let settled = false
  const readyOrFailed = ready.then(
    () => (settled = true),
    () => (settled = true),
  )
  const ahead: IteratorResult<T>[] = []
  let pending: Promise<IteratorResult<T>> | undefined
  try {
    while (!settled && ahead.length < max && !ahead.at(-1)?.done) {
      if (!pending) {
        pending = iterator.next()
        // Awaited below or after the items ahead: never left unhandled meanwhile.
        pending.catch(() => undefined)
      }
      const next = await Promise.race([pending, readyOrFailed.then(() => undefined)])
      if (next === undefined) break
      ahead.push(next)
      pending = undefined
    }
    for (const result of ahead) {
      if (result.done) return
      yield result.value
    }
    if (pending) {
      const result = await pending
      if (result.done) return
      yield result.value
    }
    for (;;) {
      const result = await iterator.next()
      if (result.done) return
      yield result.value
    }
  } finally {
    await iterator.return?.()
  }
}
