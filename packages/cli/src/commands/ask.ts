// `cascade ask "<question>" [--torrent HASH] [--conversation ID] [--json]`: the help assistant of the running node
// (control RPC `ask`). Prints the answer, what the checks found with their evidence, the help
// entries it cites, and the steps to take as commands (the web UI shows the same as buttons).

import type { AssistantAnswer, Finding } from '@cascade/assistant';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import { connectNode, requireNode } from './node-access.ts';

/** Checks can read a torrent's files and the disk; an LLM takes longer still. */
const ASK_TIMEOUT_MS = 120_000;

const MARK: Record<Finding['severity'], string> = { problem: '✗', warning: '!', info: 'i', ok: '✓' };

export function renderAnswer(a: AssistantAnswer): string {
  const lines: string[] = [a.answer.trim()];
  if (a.findings.length > 0) {
    lines.push('', 'What the checks found:');
    for (const f of a.findings) {
      lines.push(`  ${MARK[f.severity]} [${f.id}] ${f.title}`);
      lines.push(`      ${f.evidence}`);
    }
  }
  if (a.sources.length > 0) {
    lines.push('', 'Sources:');
    a.sources.forEach((s, i) => lines.push(`  [${i + 1}] ${s.title} (docs/help/${s.id}.md${s.ui ? `, ${s.ui} in the web UI` : ''})`));
  }
  const steps = a.actions.filter((x) => x.command !== undefined || x.href !== undefined);
  if (steps.length > 0) {
    lines.push('', 'What you can do:');
    for (const x of steps) lines.push(`  ${x.label}: ${x.command ?? `open ${x.href} in the web UI`}`);
  }
  lines.push('', `(answered by ${a.answeredBy}; follow up with --conversation ${a.conversation})`);
  return lines.join('\n');
}

export async function askCommand(inv: Invocation, out: Output): Promise<number> {
  const question = inv.positionals[0]!.trim();
  const node = requireNode(await connectNode(inv.options.stateDir, ASK_TIMEOUT_MS), '`cascade ask`');
  const answer = await node.call<AssistantAnswer>('ask', {
    question,
    ...(inv.options.torrent !== undefined ? { infoHash: inv.options.torrent } : {}),
    ...(inv.options.conversation !== undefined ? { conversation: inv.options.conversation } : {}),
  });
  out.result(answer, () => renderAnswer(answer));
  return 0;
}
