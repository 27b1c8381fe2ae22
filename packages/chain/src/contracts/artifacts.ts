// The checked-in compiled contracts (artifacts/*.json, made by scripts/compile.ts).
import type { Abi, Hex } from 'viem';
import registry from '../../artifacts/ContentRegistry.json' with { type: 'json' };
import token from '../../artifacts/CascadeToken.json' with { type: 'json' };
import pool from '../../artifacts/RewardPool.json' with { type: 'json' };
import market from '../../artifacts/CascadeMarket.json' with { type: 'json' };

export interface Compiled {
  abi: Abi;
  bytecode: Hex;
}

export const contentRegistry = registry as unknown as Compiled;
export const cascadeToken = token as unknown as Compiled;
export const rewardPool = pool as unknown as Compiled;
export const cascadeMarket = market as unknown as Compiled;
