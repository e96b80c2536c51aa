import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import { planReconcile, planWatch } from '../../../lib/fleet/plan.js'
import { loadFleet } from '../../../lib/fleet/registry.js'
import {
  fleetClusterOfTask,
  MalformedTaskError,
  parseReconcileTask,
  parseWatchTask,
} from '../../../lib/fleet/tasks.js'

const noAws = {
  fetchSecret: () => Promise.reject(new Error('unused')),
  discover: () => Promise.reject(new Error('unused')),
}

async function fleetOf(n: number) {
  const entries = Array.from({ length: n }, (_, i) => ({
    name: `c${i + 1}`,
    kubeconfigSecretId: `kms/c${i + 1}`,
    ...(i === 0 ? { resources: ['v1/nodes'] } : {}),
  }))
  const config = loadConfig({
    CLUSTERS: JSON.stringify(entries),
    SYNC_RESOURCES: 'v1/pods,v1/configmaps',
  })
  return { config, fleet: await loadFleet(config, noAws) }
}

describe('planning', () => {
  it('plans one reconcile task per (cluster, resource), clusters interleaved, each carrying its cluster entry', async () => {
    const { config, fleet } = await fleetOf(3)
    const at = new Date('2026-12-06T03:00:00Z')
    const tasks = planReconcile(fleet.clusters, {}, at)
    expect(tasks.map((t) => `${t.cluster.name} ${t.resource}`)).toEqual([
      'c1 v1/nodes',
      'c2 v1/pods',
      'c3 v1/pods',
      'c2 v1/configmaps',
      'c3 v1/configmaps',
    ])
    const round = parseReconcileTask(JSON.stringify(tasks[1]))
    expect(round.plannedAt).toBe('2026-12-06T03:00:00.000Z')
    const cluster = fleetClusterOfTask(round.cluster, config.resources)
    expect(cluster.credentials).toEqual({ kubeconfigSecretId: 'kms/c2' })
  })

  it('plans only the resources a person named, with their options', async () => {
    const { fleet } = await fleetOf(2)
    const tasks = planReconcile(
      fleet.clusters,
      { resources: ['v1/secrets'], namespaces: ['shop'], dryRun: true },
      new Date(),
    )
    expect(tasks).toHaveLength(2)
    expect(tasks[0]).toMatchObject({ resource: 'v1/secrets', namespaces: ['shop'], dryRun: true })
  })

  it('groups clusters into watch tasks of WATCH_CLUSTERS_PER_WORKER', async () => {
    const { fleet } = await fleetOf(25)
    const tasks = planWatch(fleet.clusters, { windowSeconds: 20 }, 10, new Date())
    expect(tasks.map((t) => t.clusters.length)).toEqual([10, 10, 5])
    expect(parseWatchTask(JSON.stringify(tasks[2])).windowSeconds).toBe(20)
  })

  it('refuses a message that is not a task, naming the bad fields and not the content', () => {
    expect(() => parseReconcileTask('not json')).toThrow(MalformedTaskError)
    expect(() => parseReconcileTask('{"v":2,"kind":"reconcile"}')).toThrow(
      /bad field\(s\) v, cluster, resource, plannedAt/,
    )
    expect(() => parseWatchTask('{"v":1,"kind":"watch","clusters":[],"plannedAt":"x"}')).toThrow(
      /clusters, plannedAt/,
    )
  })

  it('refuses a task whose cluster entry is not a registry entry', () => {
    expect(() =>
      fleetClusterOfTask({ name: 'x', kubeconfigPath: '/a', eksClusterName: 'y' }, []),
    ).toThrow('needs exactly one of')
  })
})
