/**
 * The schema of a config file (src/cli/config.ts), made from the table of settings
 * (config-keys.ts) with valibot. Its own module, loaded only when a config file exists, and with
 * named imports so that the bundle keeps only the validators used.
 */
import {
  array,
  boolean,
  check,
  integer,
  looseObject,
  minLength,
  maxValue,
  minValue,
  number,
  optional,
  picklist,
  pipe,
  safeParse,
  strictObject,
  string,
  unknown,
  type GenericSchema,
} from 'valibot';
import { checkTimeZone, DurationError, parseDuration, TimeZoneError } from '../core/query/time.js';
import { expectedType, SETTINGS, type Setting } from './config-keys.js';

/** The schema of one file, made from {@link SETTINGS}; the project file (Loki Mode's) may hold other top-level keys. */
function fileSchema(project: boolean) {
  const leaf = (s: Setting) => {
    const m = expectedType(s);
    if (Array.isArray(s.type)) return picklist(s.type as string[], m);
    switch (s.type) {
      case 'integer':
        return pipe(number(m), integer(m), minValue(s.min ?? 0, m));
      case 'boolean':
        return boolean(m);
      case 'duration':
        return pipe(
          string(m),
          check((x) => valid(() => parseDuration(x), DurationError), m),
        );
      case 'zone':
        return pipe(
          string(m),
          check((x) => valid(() => checkTimeZone(x), TimeZoneError), m),
        );
      default:
        return pipe(string(m), minLength(1, m));
    }
  };
  const root: Record<string, GenericSchema> = {};
  const sections: Record<string, Record<string, GenericSchema>> = {};
  for (const s of SETTINGS) {
    const [a, b] = s.key.split('.');
    if (b === undefined) root[a] = optional(leaf(s));
    else (sections[a] ??= {})[b] = optional(leaf(s));
  }
  sections.forward.targets = optional(array(unknown(), 'a list of targets'));
  for (const [name, keys] of Object.entries(sections)) root[name] = optional(strictObject(keys, 'a map'));
  const list = 'a list of event names';
  const PORT = 'a port number (1 to 65535)';
  root.enterprise = optional(
    looseObject(
      {
        audit: optional(
          looseObject(
            {
              level: optional(string('a level name (debug, info, warning, error)')),
              exclude_events: optional(array(string(list), list)),
            },
            'a map',
          ),
        ),
        siem: optional(
          looseObject(
            {
              syslog: optional(
                looseObject(
                  {
                    host: optional(pipe(string('a host name'), minLength(1, 'a host name'))),
                    port: optional(pipe(number(PORT), integer(PORT), minValue(1, PORT), maxValue(65535, PORT))),
                    protocol: optional(picklist(['udp', 'tcp'], 'udp or tcp')),
                    facility: optional(string('a facility name (local0 … local7, auth, …)')),
                    format: optional(picklist(['rfc5424', 'rfc3164'], 'rfc5424 or rfc3164')),
                  },
                  'a map',
                ),
              ),
            },
            'a map',
          ),
        ),
      },
      'a map',
    ),
  );
  return project ? looseObject(root, 'a map') : strictObject(root, 'a map');
}

function valid(f: () => unknown, errorClass: new (...a: never[]) => Error): boolean {
  try {
    f();
    return true;
  } catch (err) {
    if (err instanceof errorClass) return false;
    throw err;
  }
}

/**
 * The first problem of a file's data: its kind (`strict_object`: an unknown key), its key path,
 * the expected type in words, the value.
 */
export interface SchemaIssue {
  type: string;
  path: Array<string | number>;
  message: string;
  input: unknown;
}

/** The first issue of `data` against the schema, or null when it is valid. */
export function firstIssue(data: unknown, project: boolean): SchemaIssue | null {
  const r = safeParse(fileSchema(project), data, { abortEarly: true });
  if (r.success) return null;
  const issue = r.issues[0];
  return {
    type: issue.type,
    path: (issue.path ?? []).map((p) => p.key as string | number),
    message: issue.message,
    input: issue.input,
  };
}
