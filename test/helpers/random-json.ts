/**
 * Random JSON texts for cross-checks against CPython: strings with escapes, astral and lone
 * surrogates, numbers in every form Python reads (big, exponent, -0, NaN, 1e400), nesting.
 * Many are not in canonical form on purpose (`1e5`, `-0`, `\u0000`, `/`, spaces after `,`).
 */
import { prng } from '../../scripts/sample.js';

/** `count` random JSON texts from `seed`; objects hold up to 4 members, nesting up to ~5 deep. */
export function randomJsonTexts(seed: number, count: number): string[] {
  const r = prng(seed);
  const pieces = [
    'a',
    'B',
    'é',
    '\u2028',
    '😀',
    '\uffff',
    '\\u0000',
    '\\ud800',
    '\\"',
    '\\\\',
    '/',
    '\\n',
    'z',
    '10',
    '9',
    '_',
  ];
  const str = (): string =>
    '"' + Array.from({ length: Math.floor(r() * 5) }, () => pieces[Math.floor(r() * pieces.length)]).join('') + '"';
  const num = (): string => {
    const forms = [
      () => String(Math.floor(r() * 1e6) - 5e5),
      () => (r() * 10 ** Math.floor(r() * 40 - 20)).toString(),
      () => `${Math.floor(r() * 100)}e${Math.floor(r() * 40 - 20)}`,
      () => `${Math.floor(r() * 1000)}.${Math.floor(r() * 1000)}`,
      () => '123456789012345678901234567890',
      () => '-0',
      () => '-0.0',
      () => 'NaN',
      () => '-Infinity',
      () => '1e400',
    ];
    return forms[Math.floor(r() * forms.length)]();
  };
  const value = (d: number): string => {
    const k = Math.floor(r() * (d > 3 ? 4 : 7));
    if (k === 0) return str();
    if (k === 1) return num();
    if (k === 2) return ['true', 'false', 'null'][Math.floor(r() * 3)];
    if (k === 3) return num();
    if (k === 4) return '[' + Array.from({ length: Math.floor(r() * 4) }, () => value(d + 1)).join(',') + ']';
    return '{' + Array.from({ length: Math.floor(r() * 5) }, () => `${str()}: ${value(d + 1)}`).join(', ') + '}';
  };
  return Array.from({ length: count }, () => value(0));
}
