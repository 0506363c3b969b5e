/**
 * Shell completion scripts (bash, zsh) made from the commands' own definitions (oclif's
 * manifest: ids, summaries, flags, options, arguments), so that they can never name a flag the
 * CLI does not have. `loki-audit completion bash|zsh` prints them.
 *
 * Values: a flag's `options` (`--color auto|always|never`), directories for `--dir` and the
 * directory argument, command names for `help`, files for the flags that take a file; nothing
 * for other values (an event, a time, a URL).
 */
import type { Command } from '@oclif/core';

/** Flags whose value is a directory or a file (oclif's manifest does not say which flags take a path). */
const DIRECTORY_FLAGS = new Set(['dir', 'store', 'checkpoints']);
const FILE_FLAGS = new Set([
  ...['state', 'config', 'output', 'output-file', 'dead-letter', 'key', 'new-key', 'hmac-key-file', 'public-key'],
  ...['ca', 'cert', 'loki-password-file', 'loki-token-file'],
]);

/** What a flag's value completes to. */
function valueKind(f: CompletionFlag): 'options' | 'directory' | 'file' | 'none' {
  if (f.options) return 'options';
  if (DIRECTORY_FLAGS.has(f.name)) return 'directory';
  return FILE_FLAGS.has(f.name) ? 'file' : 'none';
}

/** What completion needs of one flag. */
export interface CompletionFlag {
  name: string;
  char?: string;
  summary?: string;
  /** Takes a value (an oclif option flag), as opposed to a boolean. */
  takesValue: boolean;
  options?: readonly string[];
  multiple?: boolean;
}

/** What completion needs of one command. */
export interface CompletionCommand {
  id: string;
  summary?: string;
  flags: CompletionFlag[];
  /** Its argument: a directory (`verify DIR`), a command (`help CMD`), a shell (`completion SHELL`). */
  arg?: { kind: 'directory' | 'command' | 'options'; options?: readonly string[] };
}

/** The completion view of oclif's commands (`this.config.commands`), hidden ones left out, by id. */
export function completionCommands(commands: readonly Command.Loadable[]): CompletionCommand[] {
  return commands
    .filter((c) => !c.hidden)
    .map((c) => {
      const flags = Object.values(c.flags)
        .filter((f) => !f.hidden)
        .map((f) => ({
          name: f.name,
          char: f.char,
          summary: f.summary ?? f.description,
          takesValue: f.type === 'option',
          options: f.type === 'option' ? f.options : undefined,
          multiple: f.type === 'option' ? f.multiple : false,
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const [arg] = Object.values(c.args ?? {});
      const kind = !arg
        ? undefined
        : arg.options
          ? ('options' as const)
          : arg.name === 'dir'
            ? ('directory' as const)
            : arg.name === 'command'
              ? ('command' as const)
              : undefined;
      return { id: c.id, summary: c.summary, flags, arg: kind && { kind, options: arg?.options } };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

const words = (list: readonly string[]): string => list.join(' ');
/** A value inside a bash double-quoted string. */
const bashWord = (s: string): string => s.replace(/["\\$`]/g, '\\$&');

/** The bash completion script (bash-completion's `complete -F`). */
export function bashCompletion(bin: string, commands: readonly CompletionCommand[]): string {
  const fn = `_${bin.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const ids = commands.map((c) => c.id);
  const cases = commands.map((c) => {
    const flagWords = c.flags.flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]);
    const valueCases: string[] = [];
    for (const f of c.flags.filter((f) => f.takesValue)) {
      const pattern = [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])].join('|');
      const reply = {
        options: `COMPREPLY=($(compgen -W "${bashWord(words(f.options ?? []))}" -- "$cur"))`,
        directory: 'COMPREPLY=($(compgen -d -- "$cur"))',
        file: 'COMPREPLY=($(compgen -f -- "$cur"))',
        none: 'COMPREPLY=()',
      }[valueKind(f)];
      valueCases.push(`        ${pattern}) ${reply}; return ;;`);
    }
    const arg =
      c.arg?.kind === 'directory'
        ? 'argdirs=1'
        : c.arg?.kind === 'command'
          ? `argwords="${bashWord(words(ids))}"`
          : c.arg?.kind === 'options'
            ? `argwords="${bashWord(words(c.arg.options ?? []))}"`
            : '';
    return [
      `    ${c.id})`,
      ...(valueCases.length ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
      `      flags="${bashWord(words(flagWords))}"`,
      ...(arg ? [`      ${arg}`] : []),
      '      ;;',
    ].join('\n');
  });
  return `# bash completion for ${bin}, generated from its commands (${bin} completion bash).
# Load it now:       source <(${bin} completion bash)
# Or for good:       ${bin} completion bash > ~/.local/share/bash-completion/completions/${bin}
${fn}() {
  local cur prev flags argwords="" argdirs=""
  COMPREPLY=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ $COMP_CWORD -le 1 ]]; then
    COMPREPLY=($(compgen -W "${bashWord(words(ids))}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ -n $argdirs ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
  elif [[ -n $argwords ]]; then
    COMPREPLY=($(compgen -W "$argwords" -- "$cur"))
  fi
}
complete -o filenames -F ${fn} ${bin}
`;
}

/** A description inside a zsh `_arguments` spec's `[…]`, itself in single quotes. */
const zshDescription = (s = ''): string =>
  s
    .split('\n')[0]
    .replace(/([[\]:\\])/g, '\\$1')
    .replace(/'/g, "'\\''");

/** The zsh completion script (`#compdef`, for a directory in $fpath or `source`). */
export function zshCompletion(bin: string, commands: readonly CompletionCommand[]): string {
  const fn = `_${bin}`;
  const ids = commands.map((c) => c.id);
  const described = commands.map((c) => `    '${c.id}:${zshDescription(c.summary).replace(/\\:/g, ':')}'`);
  const cases = commands.map((c) => {
    const specs = c.flags.map((f) => {
      const value = !f.takesValue
        ? ''
        : {
            options: `:${f.name}:(${words(f.options ?? [])})`,
            directory: `:${f.name}:_files -/`,
            file: `:${f.name}:_files`,
            none: `:${f.name}: `,
          }[valueKind(f)];
      const desc = `[${zshDescription(f.summary)}]`;
      if (f.char) {
        const exclusive = f.multiple ? '*' : `(-${f.char} --${f.name})`;
        return `'${exclusive}'{-${f.char},--${f.name}}'${desc}${value}'`;
      }
      return `'${f.multiple ? '*' : ''}--${f.name}${desc}${value}'`;
    });
    if (c.arg?.kind === 'directory') specs.push("'1:directory:_files -/'");
    else if (c.arg?.kind === 'command') specs.push(`'1:command:(${words(ids)})'`);
    else if (c.arg?.kind === 'options') specs.push(`'1:${c.id}:(${words(c.arg.options ?? [])})'`);
    return [`    ${c.id})`, `      _arguments -s \\`, ...specs.map((s) => `        ${s} \\`), '      ;;'].join('\n');
  });
  return `#compdef ${bin}
# zsh completion for ${bin}, generated from its commands (${bin} completion zsh).
# Load it now:       source <(${bin} completion zsh)
# Or for good:       ${bin} completion zsh > "\${fpath[1]}/_${bin}"   (then restart zsh)
${fn}() {
  local -a commands
  commands=(
${described.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands '${bin} command' commands
    return
  fi
  local cmd=\${words[2]}
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases.join('\n')}
  esac
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${bin}
fi
`;
}
