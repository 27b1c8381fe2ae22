// What `cascade` prints for an error: one line that says what failed and what to do (issue 65
// item 2); what the libraries underneath said only with --verbose, after it.

import { errorMessage } from '@cascade/node/basics';
import { UsageError } from './errors.ts';
import { asUnreachable, causes, type Service } from './unreachable.ts';

export interface ErrorReport {
  line: string;
  /** The whole message and each cause's, one after another; undefined when the line says it all. */
  detail: string | undefined;
}

/** Each message of an error and its causes once (a wrapper often repeats its cause's), with its code. */
function chainText(err: unknown): string[] {
  const seen: string[] = [];
  for (const e of causes(err)) {
    const message = typeof e.message === 'string' ? e.message.trim() : '';
    const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
    if (message === '' || seen.some((m) => m.includes(message))) continue;
    seen.push(`${seen.length === 0 ? '' : 'caused by: '}${message}${code}`);
  }
  if (seen.length === 0) seen.push(errorMessage(err));
  return seen;
}

export function errorReport(err: unknown, services: Service[]): ErrorReport {
  const unreachable = asUnreachable(err, services);
  if (unreachable) return { line: unreachable.message, detail: chainText(unreachable.cause).join('\n') };
  const [first = '', ...rest] = errorMessage(err).split('\n').map((l) => l.trim()).filter((l) => l !== '');
  // Ours: the usage that follows a usage error is what to do, kept on the line.
  if (err instanceof UsageError) return { line: [first, rest.join(' ')].filter((l) => l !== '').join('; '), detail: undefined };
  const detail = chainText(err);
  const cut = rest.length > 0 || detail.length > 1;
  return { line: cut ? `${first} (--verbose shows more)` : first, detail: cut ? detail.join('\n') : undefined };
}
