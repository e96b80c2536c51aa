/*
 * Two arms of a comparison timed in turns, the order alternating pair by pair:
 * on a shared machine the drift over minutes (the API server, the disk, other
 * processes) is as large as the effects these benches look for, so timing one
 * arm after the other measures the drift. Used where both arms can stand side
 * by side (two databases, two warm processes).
 */

export type Arm = 'alone' | 'beside'

export async function inTurns<R>(
  pairs: number,
  run: Record<Arm, () => Promise<R>>,
  before: () => Promise<void> | void = () => undefined,
): Promise<Record<Arm, R[]>> {
  const runs: Record<Arm, R[]> = { alone: [], beside: [] }
  for (let i = 0; i < pairs; i++) {
    await before()
    const order: Arm[] = i % 2 === 0 ? ['alone', 'beside'] : ['beside', 'alone']
    for (const arm of order) runs[arm].push(await run[arm]())
  }
  return runs
}
