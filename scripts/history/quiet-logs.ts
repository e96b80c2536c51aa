/**
 * Imported first by scripts/history.ts, before lib/log.ts builds its logger: the
 * connection's JSON log lines ("MongoDB connected") would interleave with the
 * output people read. Errors are printed by the script itself, on stderr.
 * POWERTOOLS_LOG_LEVEL=INFO brings them back.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT'
