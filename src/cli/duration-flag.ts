/**
 * Flags that take a length of time: a bare whole number in the flag's documented unit (what they
 * always took: `--batch-wait 500` is ms, `--give-up-after 300` is seconds), or a duration with
 * its unit (`250ms`, `2s`, `5m`, `1h30m`), so no one has to remember which flag counts in what.
 */
import { Flags, type Interfaces } from '@oclif/core';
import { DurationError, parseDuration } from '../core/query/time.js';

/** The unit a flag's bare number is in, and its value is given in. */
export type DurationUnit = 'ms' | 's';

const UNIT_NAME: Record<DurationUnit, string> = { ms: 'milliseconds', s: 'seconds' };
const UNIT_ONE: Record<DurationUnit, string> = { ms: 'millisecond', s: 'second' };
const MS_PER: Record<DurationUnit, number> = { ms: 1, s: 1000 };

/**
 * A flag's value in `unit`: `input` is a whole number (already in `unit`), `Nms`, or the time
 * grammar's duration (`90s`, `5m`, `1h30m`: src/core/query/time.ts parseDuration).
 * @throws Error (oclif shows it as `--FLAG: MESSAGE`, exit 2) for anything else, for a duration
 *   that is not a whole number of `unit`, or one below `min` (in `unit`).
 */
export function parseFlagDuration(input: string, unit: DurationUnit, min: number): number {
  const text = input.trim();
  let value: number;
  if (/^\d+$/.test(text)) value = Number(text);
  else {
    const ms = /^(\d+)\s*(?:ms|msecs?|milliseconds?)$/i.exec(text);
    let total: number;
    try {
      total = ms ? Number(ms[1]) : parseDuration(text);
    } catch (err) {
      if (err instanceof DurationError)
        throw new Error(`expected ${UNIT_NAME[unit]} or a duration (250ms, 2s, 5m, 1h30m), got "${input}"`, {
          cause: err,
        });
      throw err;
    }
    value = total / MS_PER[unit];
    if (!Number.isInteger(value)) throw new Error(`"${input}" is not a whole number of ${UNIT_NAME[unit]}`);
  }
  if (!Number.isSafeInteger(value)) throw new Error(`"${input}" is too long`);
  if (value < min) throw new Error(`at least ${min} ${min === 1 ? UNIT_ONE[unit] : UNIT_NAME[unit]}, got "${input}"`);
  return value;
}

/** An oclif flag for {@link parseFlagDuration}: its value is a number in `unit`. */
export function durationFlag(options: {
  unit: DurationUnit;
  min: number;
  summary: string;
  helpGroup?: string;
}): Interfaces.OptionFlag<number | undefined> {
  return Flags.custom<number>({
    parse: async (input) => parseFlagDuration(input, options.unit, options.min),
    summary: options.summary,
    helpGroup: options.helpGroup,
    helpValue: options.unit === 'ms' ? 'MS|DURATION' : 'SECONDS|DURATION',
  })();
}
