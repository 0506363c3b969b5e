/**
 * Loki Mode's own environment variables that loki-audit honours (spec §6.4): the writer's
 * size-rotation threshold and retention count; its Splunk HEC settings (spec §11). Read once,
 * here; the core takes plain numbers.
 */

/** An integer variable's value, or undefined when unset or not a whole number (as Loki Mode's `int()` would fail). */
function intVar(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** `LOKI_AUDIT_MAX_SIZE_MB` (default 10) in bytes: the live file is rotated at this size (spec §1). */
export function maxFileBytes(env: NodeJS.ProcessEnv = process.env): number {
  return (intVar(env, 'LOKI_AUDIT_MAX_SIZE_MB') ?? 10) * 1048576;
}

/** `LOKI_AUDIT_MAX_FILES`: how many files the writer's retention keeps (spec §1, §10.25), if set. */
export function retentionFiles(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return intVar(env, 'LOKI_AUDIT_MAX_FILES');
}

/**
 * Loki Mode's Splunk HEC settings (spec §11): `LOKI_SPLUNK_HEC_URL` (its presence enables a HEC
 * target), `LOKI_SPLUNK_HEC_TOKEN`, `LOKI_SPLUNK_HEC_INDEX`, `LOKI_SPLUNK_HEC_SOURCETYPE`; empty
 * values count as unset.
 */
export function splunkHecEnv(env: NodeJS.ProcessEnv = process.env): {
  url?: string;
  token?: string;
  index?: string;
  sourcetype?: string;
} {
  const v = (name: string) => env[name] || undefined;
  return {
    url: v('LOKI_SPLUNK_HEC_URL'),
    token: v('LOKI_SPLUNK_HEC_TOKEN'),
    index: v('LOKI_SPLUNK_HEC_INDEX'),
    sourcetype: v('LOKI_SPLUNK_HEC_SOURCETYPE'),
  };
}
