import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

import { describe, expect, it } from 'vitest'

/*
 * Code comments cite the design by its headings' anchors (an invariant, a collection), and the
 * docs link each other the same way. A renamed heading would leave those citations pointing nowhere
 * without anyone noticing; this reads every citation and every heading and checks they meet.
 */

const root = process.cwd()
const SOURCE_DIRS = ['lib', 'functions', 'scripts', 'test', 'docs']
const SKIP = new Set(['node_modules', '.stack', '.stack-2', 'dist', '.serverless'])

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return []
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return filesUnder(path)
    return /\.(ts|md)$/.test(name) ? [path] : []
  })
}

/** GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*]/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

const anchorsOf = new Map<string, Set<string>>()
function anchors(doc: string): Set<string> {
  let found = anchorsOf.get(doc)
  if (!found) {
    const text = readFileSync(doc, 'utf8').replace(/^```[\s\S]*?^```/gm, '')
    found = new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!)))
    anchorsOf.set(doc, found)
  }
  return found
}

interface Citation {
  readonly from: string
  readonly doc: string
  readonly anchor: string
}

function citations(): Citation[] {
  const files = [join(root, 'README.md'), ...SOURCE_DIRS.flatMap((d) => filesUnder(join(root, d)))]
  return files.flatMap((file) => {
    const text = readFileSync(file, 'utf8')
    const markdown = file.endsWith('.md')
    // In code, citations name the path from the repository root; in Markdown, links are
    // relative to the page (and `#anchor` alone is the page itself).
    const pattern = markdown ? /\]\(([\w./-]*)#([\w-]+)\)/g : /\b(docs\/[\w./-]+\.md)#([\w-]+)/g
    return [...text.matchAll(pattern)].map((m) => ({
      from: relative(root, file),
      doc: markdown ? (m[1] ? resolve(dirname(file), m[1]) : file) : join(root, m[1]!),
      anchor: m[2]!,
    }))
  })
}

describe('links to the design and the docs', () => {
  const all = citations()

  it('finds the citations it checks (the design is cited from the code)', () => {
    expect(all.filter((c) => c.from.startsWith('lib/')).length).toBeGreaterThan(20)
  })

  it('cites only headings that exist', () => {
    const broken = all
      .filter((c) => c.doc.endsWith('.md'))
      .filter((c) => !anchors(c.doc).has(c.anchor))
      .map((c) => `${c.from} -> ${relative(root, c.doc)}#${c.anchor}`)
    expect(broken).toEqual([])
  })

  it('reads anchors the way GitHub makes them', () => {
    expect(slug('Invariant 5: Checkpoints after writes')).toBe(
      'invariant-5-checkpoints-after-writes',
    )
    expect(slug('Fleets: reconcile and watch with a registry')).toBe(
      'fleets-reconcile-and-watch-with-a-registry',
    )
    expect(slug('`npm run history`')).toBe('npm-run-history')
  })
})
