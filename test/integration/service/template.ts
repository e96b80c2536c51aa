import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

const repoRoot = resolve(import.meta.dirname, '../../..')

let copy: string | undefined

/**
 * A copy of the service (serverless.yml, the sources, the deploy helpers; node_modules linked)
 * that `serverless package` builds in: its build folders (`.esbuild`, `.serverless`) are its
 * own, so these packaging-only tests run beside the integration tests that bundle in the
 * working tree (`serverless invoke local`) without sharing a folder.
 */
export function serviceCopy(): string {
  if (copy) return copy
  const dir = mkdtempSync(join(tmpdir(), 'kms-service-'))
  for (const entry of [
    'serverless.yml',
    'package.json',
    'tsconfig.json',
    'functions',
    'lib',
    'deploy',
  ])
    cpSync(join(repoRoot, entry), join(dir, entry), { recursive: true })
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'))
  copy = dir
  return dir
}

/** The parts of a CloudFormation template the service tests read. */
export interface Template {
  readonly Conditions: Record<string, unknown>
  readonly Resources: Record<
    string,
    {
      readonly Type: string
      readonly Condition?: string
      readonly Properties?: Record<string, unknown> & {
        readonly Environment?: { readonly Variables?: Record<string, string> }
      }
    }
  >
}

/**
 * Evaluates a condition of the template as CloudFormation would, for the
 * functions serverless.yml uses (Equals, Not, And, Or, Condition) on the
 * literal values the parameters became.
 */
export function conditionHolds(template: Template, name: string): boolean {
  const evaluate = (expr: unknown): unknown => {
    if (expr === null || typeof expr !== 'object') return expr
    const [[fn, args]] = Object.entries(expr) as [[string, unknown]]
    const list = Array.isArray(args) ? args : [args]
    switch (fn) {
      case 'Fn::Equals':
        return String(evaluate(list[0])) === String(evaluate(list[1]))
      case 'Fn::Not':
        return !evaluate(list[0])
      case 'Fn::And':
        return list.every((a) => evaluate(a) === true)
      case 'Fn::Or':
        return list.some((a) => evaluate(a) === true)
      case 'Condition':
        return conditionHolds(template, String(args))
      default:
        throw new Error(`condition ${name}: cannot evaluate ${fn}`)
    }
  }
  if (!(name in template.Conditions)) throw new Error(`no condition ${name} in the template`)
  return evaluate(template.Conditions[name]) === true
}

/**
 * The environment `serverless package` runs in: no AWS credentials (it works
 * offline), none of the stack's secrets, which a deployment refuses to carry
 * (deploy/plugins/no-secrets-in-environment.cjs), nor its ALLOW_INSECURE_TLS.
 */
export const packagingEnv = (env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  MONGODB_URI: '',
  SECRET_HASH_KEY: '',
  ALLOW_INSECURE_TLS: undefined,
  ...env,
})

/** `serverless package` offline with these parameters, into `dir`; the generated template. */
export async function packageTemplate(
  dir: string,
  params: Record<string, string>,
  env: NodeJS.ProcessEnv = {},
): Promise<Template> {
  const args = ['serverless', 'package', '--package', dir]
  for (const [key, value] of Object.entries(params)) args.push(`--param=${key}=${value}`)
  await run('npx', args, { env: packagingEnv(env), cwd: serviceCopy() })
  return JSON.parse(
    readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template
}
