/** A plain text table: no colours, readable in any terminal or CI log. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  // Strings as they are; numbers, booleans and objects as JSON writes them.
  const cell = (v: unknown) =>
    v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v)
  const cells = rows.map((r) => columns.map((c) => cell(r[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)))
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

export function heading(text: string): void {
  process.stdout.write(`\n== ${text}\n\n`)
}

export function say(text: string): void {
  process.stdout.write(`${text}\n`)
}
