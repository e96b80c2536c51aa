import type { Command } from '../proc.js'

export interface ServerSpec {
  name: string
  bin: string
  port: number
  command(): Command
  healthy(): Promise<boolean>
  startTimeoutMs: number
}
