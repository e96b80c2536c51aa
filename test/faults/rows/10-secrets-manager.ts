import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { retriesOf } from '../invoke.js'
import type { Scenario } from '../scenario.js'
import { allSeeded, syncResources, targets } from './common.js'

/** A TCP relay to moto that can refuse connections (Secrets Manager unreachable) and come back. */
async function relay(
  upstream: URL,
): Promise<{ url: string; up: () => void; down: () => void; close: () => Promise<void> }> {
  let open = false
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    if (!open) return client.destroy()
    const target = connect(Number(upstream.port), upstream.hostname)
    sockets.add(client).add(target)
    client.pipe(target).pipe(client)
    const drop = () => {
      client.destroy()
      target.destroy()
    }
    client.on('error', drop).on('close', drop)
    target.on('error', drop).on('close', drop)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    up: () => void (open = true),
    down: () => {
      open = false
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/**
 * Cold starts with MONGODB_SECRET_ID and KUBECONFIG_SECRET_ID (both real
 * secrets in moto) while Secrets Manager refuses connections, then back.
 */
export const row10: Scenario = {
  row: 10,
  fault: 'Secrets Manager unreachable on a cold start, then back',
  quick: true,
  async run(ctx) {
    const namespaces = await ctx.seed(100)
    const all = targets(allSeeded, namespaces)
    const endpoint = ctx.stack.AWS_ENDPOINT_URL_SECRETS_MANAGER!
    const sm = new SecretsManagerClient({
      endpoint,
      region: ctx.stack.AWS_REGION,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    })
    const ids = { mongo: `faults/${ctx.id}/mongodb`, kube: `faults/${ctx.id}/kubeconfig` }
    await sm.send(
      new CreateSecretCommand({
        Name: ids.mongo,
        SecretString: JSON.stringify({ uri: ctx.stack.MONGODB_URI }),
      }),
    )
    await sm.send(
      new CreateSecretCommand({
        Name: ids.kube,
        SecretString: readFileSync(ctx.stack.KUBECONFIG!, 'utf8'),
      }),
    )
    ctx.defer(async () => {
      for (const id of Object.values(ids))
        await sm.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }))
    })
    const link = await relay(new URL(endpoint))
    ctx.defer(() => link.close())
    const env = ctx.env({
      MONGODB_URI: undefined,
      KUBECONFIG: undefined,
      MONGODB_SECRET_ID: ids.mongo,
      KUBECONFIG_SECRET_ID: ids.kube,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: link.url,
      SYNC_RESOURCES: syncResources(allSeeded),
    })

    link.down()
    ctx.faultStarts()
    const down = await ctx.invoke('reconcile', { namespaces }, env)
    const errors = down.text.filter((l) => / failed: /.test(l))
    ctx.expect(down.exitCode === 1, `unreachable: exit ${down.exitCode}, expected 1`)
    ctx.expect(
      errors.length === 1,
      `unreachable: expected one error line, got ${JSON.stringify(down.text)}`,
    )
    ctx.expect(
      errors.length === 1 && /Secrets Manager|faults\//.test(errors[0]!),
      `unreachable: the error names neither Secrets Manager nor the secret: ${errors[0]}`,
    )
    ctx.expect(
      !down.logs.some((l) => l.event === 'mongo.connected'),
      'connected to MongoDB without its secret',
    )
    const collections = await (await ctx.db()).listCollections().toArray()
    ctx.expect(
      collections.length === 0,
      `${collections.length} collections written while secrets were unreachable`,
    )
    ctx.note(
      `unreachable: ${errors[0] ?? down.text.join(' ')} (${retriesOf(down).length} retries logged, ${(down.durationMs / 1000).toFixed(1)} s)`,
    )

    link.up()
    const back = await ctx.invoke('reconcile', { namespaces }, env)
    ctx.expect(back.exitCode === 0, `back: exit ${back.exitCode} ${back.text.join(' ')}`)
    ctx.expect(
      back.logs.some(
        (l) =>
          (l.mongodb as { source?: string } | undefined)?.source === 'secrets-manager' ||
          l.event === 'mongo.connected',
      ),
      'no MongoDB connection from the fetched secret',
    )
    await ctx.expectConverged(all)
  },
}
