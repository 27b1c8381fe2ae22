// `cascade chain deploy --chain-rpc URL --key HEX`: the contracts on any EVM chain, deployed by a
// funded key; prints the JSON `serve --chain-contracts FILE` reads.
import { CliError, UsageError } from '../core/errors.ts';
import { asUnreachable, optionService } from '../core/unreachable.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';

export async function chainCommand(inv: Invocation, out: Output): Promise<number> {
  const [verb] = inv.positionals;
  if (verb !== 'deploy') throw new UsageError(`chain: unknown verb "${verb}" (chain deploy --chain-rpc URL --key HEX)`);
  const rpc = inv.values['chain-rpc'];
  if (typeof rpc !== 'string') throw new UsageError('chain deploy needs --chain-rpc URL');
  const key = (typeof inv.values.key === 'string' ? inv.values.key : undefined) ?? (process.env.CASCADE_CHAIN_KEY || undefined);
  if (key === undefined) throw new UsageError('chain deploy needs --key HEX (or $CASCADE_CHAIN_KEY): a funded private key');
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) throw new UsageError('--key wants a private key: 64 hex digits, 0x optional');
  const { deployWithKey } = await import('@cascade/chain');
  const result = await deployWithKey(rpc, `0x${key.replace(/^0x/, '')}`).catch((err: unknown) => {
    throw asUnreachable(err, [optionService('the chain', rpc, '--chain-rpc')]) ?? new CliError((err as Error).message);
  });
  // The JSON itself, either way: it is what --chain-contracts FILE reads.
  out.result(result, () => JSON.stringify(result));
  return 0;
}
