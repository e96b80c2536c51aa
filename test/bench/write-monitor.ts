import type { CommandStartedEvent, CommandSucceededEvent, MongoClient } from 'mongodb'

/*
 * Counts the write statements the driver sends to one collection (command
 * monitoring, so nothing is inferred from reports), and optionally records
 * when the write of each `_id` was acknowledged (watch lag).
 */

export interface WriteMonitor {
  /** Statements (documents inserted, updates, deletes) sent to the collection since the last reset. */
  statements(): number
  commands(): number
  /** The durations of every command the client ran since the last reset, any collection, summed. */
  commandMs(): number
  reset(): void
  /** Start recording the acknowledgement time of every `_id` written. */
  trackAcks(on: boolean): void
  acks(): Record<string, number>
}

const writeCommands = {
  insert: 'documents',
  update: 'updates',
  delete: 'deletes',
} as const

type WriteCommand = keyof typeof writeCommands

function idsOf(name: WriteCommand, command: Record<string, unknown>): string[] {
  const list = command[writeCommands[name]] as Record<string, unknown>[] | undefined
  if (!list) return []
  if (name === 'insert') return list.map((d) => String(d._id))
  return list.map((s) => String((s.q as { _id?: unknown } | undefined)?._id))
}

export function monitorWrites(client: MongoClient, collection: string): WriteMonitor {
  let statements = 0
  let commands = 0
  let commandMs = 0
  let tracking = false
  let acks: Record<string, number> = {}
  const pending = new Map<number, string[]>()

  client.on('commandStarted', (event: CommandStartedEvent) => {
    const name = event.commandName as WriteCommand
    if (!(name in writeCommands) || event.command[name] !== collection) return
    const field = writeCommands[name]
    const list = event.command[field] as unknown[] | undefined
    statements += list?.length ?? 0
    commands++
    if (tracking) pending.set(event.requestId, idsOf(name, event.command))
  })
  client.on('commandSucceeded', (event: CommandSucceededEvent) => {
    commandMs += event.duration
    const ids = pending.get(event.requestId)
    if (!ids) return
    pending.delete(event.requestId)
    const at = Date.now()
    for (const id of ids) acks[id] = at
  })

  return {
    statements: () => statements,
    commands: () => commands,
    commandMs: () => Math.round(commandMs),
    reset: () => {
      statements = 0
      commands = 0
      commandMs = 0
    },
    trackAcks: (on) => {
      tracking = on
      if (on) acks = {}
    },
    acks: () => acks,
  }
}
