import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { secondStack, testsUseTwoStacks } from '../test/stack/second-stack.js'

/*
 * `npm test`: every project of vitest.config.ts, with the integration files
 * split into two streams on two identical local stacks at once
 * (test/stack/second-stack.ts). Each stream runs its files one at a time on
 * its own stack, exactly as one stream would, so a file that restarts a server
 * or adds a toxic still has its stack to itself; two streams keep both cores
 * busy while tests wait on servers. The first stream runs the unit tests, the
 * fault matrix and its integration files; the second the packaging tests and
 * the rest; its output follows the first's. Arguments (`npm test -- test/unit`) or KMS_TEST_STACKS=1 give one
 * plain `vitest run` on one stack.
 */

type Output = 'inherit' | { file: string }

function vitest(args: readonly string[], env: NodeJS.ProcessEnv, output: Output): Promise<number> {
  const fd = output === 'inherit' ? 'inherit' : openSync(output.file, 'w')
  const child = spawn('vitest', args, { env, stdio: ['ignore', fd, fd] })
  return new Promise((done, fail) => {
    child.on('error', fail)
    child.on('exit', (code, signal) => done(code ?? (signal ? 1 : 0)))
  })
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  if (args.length > 0 || !testsUseTwoStacks())
    return vitest(['run', ...args], process.env, 'inherit')
  const dir = mkdtempSync(join(tmpdir(), 'kms-test-'))
  const log = join(dir, 'second-stream.log')
  const second = vitest(
    ['run', '--project', 'packaging', '--project', 'integration'],
    { ...process.env, ...secondStack(), KMS_TEST_STREAM: 'second' },
    { file: log },
  )
  const firstCode = await vitest(
    ['run', '--project', 'unit', '--project', 'faults', '--project', 'integration'],
    { ...process.env, KMS_TEST_STREAM: 'first' },
    'inherit',
  )
  const secondCode = await second
  const where = secondStack().KMS_STACK_DIR
  console.log(`\n==== npm test: the second stream (integration files on ${where}) ====\n`)
  process.stdout.write(readFileSync(log))
  rmSync(dir, { recursive: true, force: true })
  console.log(
    `\nnpm test: first stream ${firstCode === 0 ? 'passed' : `FAILED (exit ${firstCode})`}, ` +
      `second stream ${secondCode === 0 ? 'passed' : `FAILED (exit ${secondCode})`}`,
  )
  return firstCode === 0 && secondCode === 0 ? 0 : 1
}

process.exitCode = await main()
