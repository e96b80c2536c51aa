import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/*
 * `npm test` runs its integration files on two identical local stacks at once
 * (vitest.config.ts): the files of the `integration-b` project use a second
 * stack beside the usual one, so two serial streams of tests share the
 * machine instead of one (each file still has its stack to itself, restarts
 * and toxics included). This module says where the second one lives and
 * drives it through the CLI in a child process, since a process's stack is
 * fixed by its environment (paths.ts, ports.ts). KMS_TEST_STACKS=1 runs every
 * file on the first stack alone.
 */

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)))

/** How far the second stack's ports are from the first's: clear of its 40 clusters (ports.ts). */
const SECOND_PORT_DISTANCE = 50

export interface StackLocation {
  readonly KMS_STACK_DIR: string
  readonly KMS_PORT_OFFSET: string
}

/** The second stack of the stack this environment names: `<dir>-2`, ports 50 above. */
export function secondStack(env: NodeJS.ProcessEnv = process.env): StackLocation {
  const first = env.KMS_STACK_DIR ?? join(repoRoot, '.stack')
  return {
    KMS_STACK_DIR: `${first}-2`,
    KMS_PORT_OFFSET: String(Number(env.KMS_PORT_OFFSET ?? 0) + SECOND_PORT_DISTANCE),
  }
}

/** Whether the tests use two stacks (the default) or one (KMS_TEST_STACKS=1). */
export function testsUseTwoStacks(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.KMS_TEST_STACKS !== '1'
}

export function secondStackExists(env: NodeJS.ProcessEnv = process.env): boolean {
  return existsSync(join(secondStack(env).KMS_STACK_DIR, 'pids'))
}

/** Runs `cli.ts <args>` against the second stack; its output goes to ours. */
export function runOnSecondStack(args: readonly string[]): Promise<void> {
  const cli = join(repoRoot, 'test/stack/cli.ts')
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...secondStack() },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  return new Promise((done, fail) => {
    child.on('error', fail)
    child.on('exit', (code, signal) =>
      code === 0
        ? done()
        : fail(new Error(`second stack: cli.ts ${args.join(' ')} exited ${code ?? signal}`)),
    )
  })
}
