// A tiny but real GGUF v3 model (llama architecture, 2 layers, 64-wide, f32, a byte-fallback
// SentencePiece vocabulary) written from scratch: no model weights can be downloaded here, and the
// --llm-gguf path must still be tested through node-llama-cpp for real. Its answers are gibberish;
// what the tests check is the plumbing (load, prompt, streamed tokens, citations, fallbacks).
// Layout per ggml's docs/gguf.md: header, metadata key/values, tensor infos, aligned tensor data.
import { writeFileSync } from 'node:fs';

/** GGUF metadata value types. */
const T = { U32: 4, I32: 5, F32: 6, STR: 8, ARR: 9 } as const;
type T = (typeof T)[keyof typeof T];
const ALIGN = 32;
const GGML_F32 = 0;

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const str = (s: string) => {
  const e = Buffer.from(s, 'utf8');
  return Buffer.concat([u64(e.length), e]);
};

function scalar(type: T, v: number | string): Buffer {
  switch (type) {
    case T.U32:
      return u32(v as number);
    case T.I32: {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v as number);
      return b;
    }
    case T.F32: {
      const b = Buffer.alloc(4);
      b.writeFloatLE(v as number);
      return b;
    }
    case T.STR:
      return str(v as string);
    default:
      throw new Error(`no scalar type ${type}`);
  }
}

function kv(key: string, type: T, value: number | string): Buffer {
  return Buffer.concat([str(key), u32(type), scalar(type, value)]);
}

function kvArray(key: string, type: T, values: (number | string)[]): Buffer {
  return Buffer.concat([str(key), u32(T.ARR), u32(type), u64(values.length), ...values.map((v) => scalar(type, v))]);
}

export interface TinyModel {
  bytes: number;
  vocabulary: number;
}

/** Writes the model to `path`. Deterministic: the same file every time. */
export function writeTinyGguf(path: string, opts: { contextLength?: number } = {}): TinyModel {
  const nEmbd = 64;
  const nFf = 128;
  const nHead = 4;
  const nLayer = 2;
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3]; // unknown, control, control
  for (let i = 0; i < 256; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6); // byte
  }
  // A few whole words so the tokenizer has merges to make, as a real vocabulary has.
  for (const w of ['▁the', '▁port', '▁tracker', '▁peers', '▁seed', '▁open', '▁Settings', '▁', 'e', 't', 'a', 'o']) {
    tokens.push(w);
    types.push(1); // normal
  }
  const meta = [
    kv('general.architecture', T.STR, 'llama'),
    kv('general.name', T.STR, 'cascade-tiny-test'),
    kv('llama.context_length', T.U32, opts.contextLength ?? 16384),
    kv('llama.embedding_length', T.U32, nEmbd),
    kv('llama.block_count', T.U32, nLayer),
    kv('llama.feed_forward_length', T.U32, nFf),
    kv('llama.attention.head_count', T.U32, nHead),
    kv('llama.attention.head_count_kv', T.U32, nHead),
    kv('llama.attention.layer_norm_rms_epsilon', T.F32, 1e-5),
    kv('llama.rope.dimension_count', T.U32, nEmbd / nHead),
    kv('tokenizer.ggml.model', T.STR, 'llama'),
    kvArray('tokenizer.ggml.tokens', T.STR, tokens),
    kvArray('tokenizer.ggml.scores', T.F32, tokens.map((_, i) => -i)),
    kvArray('tokenizer.ggml.token_type', T.I32, types),
    kv('tokenizer.ggml.bos_token_id', T.U32, 1),
    kv('tokenizer.ggml.eos_token_id', T.U32, 2),
    kv('tokenizer.ggml.unknown_token_id', T.U32, 0),
  ];

  const tensors: { name: string; dims: number[]; fill?: number }[] = [
    { name: 'token_embd.weight', dims: [nEmbd, tokens.length] },
    { name: 'output_norm.weight', dims: [nEmbd], fill: 1 },
    { name: 'output.weight', dims: [nEmbd, tokens.length] },
  ];
  for (let l = 0; l < nLayer; l++) {
    const b = `blk.${l}`;
    tensors.push(
      { name: `${b}.attn_norm.weight`, dims: [nEmbd], fill: 1 },
      { name: `${b}.attn_q.weight`, dims: [nEmbd, nEmbd] },
      { name: `${b}.attn_k.weight`, dims: [nEmbd, nEmbd] },
      { name: `${b}.attn_v.weight`, dims: [nEmbd, nEmbd] },
      { name: `${b}.attn_output.weight`, dims: [nEmbd, nEmbd] },
      { name: `${b}.ffn_norm.weight`, dims: [nEmbd], fill: 1 },
      { name: `${b}.ffn_gate.weight`, dims: [nEmbd, nFf] },
      { name: `${b}.ffn_down.weight`, dims: [nFf, nEmbd] },
      { name: `${b}.ffn_up.weight`, dims: [nEmbd, nFf] },
    );
  }

  let seed = 1;
  const weight = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed / 2 ** 32 - 0.5) * 0.2;
  };
  const infos: Buffer[] = [];
  const data: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const n = t.dims.reduce((a, b) => a * b, 1);
    const d = Buffer.alloc(Math.ceil((n * 4) / ALIGN) * ALIGN);
    for (let i = 0; i < n; i++) d.writeFloatLE(t.fill ?? weight(), i * 4);
    infos.push(Buffer.concat([str(t.name), u32(t.dims.length), ...t.dims.map(u64), u32(GGML_F32), u64(offset)]));
    data.push(d);
    offset += d.length;
  }
  const head = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(tensors.length), u64(meta.length), ...meta, ...infos]);
  const file = Buffer.concat([head, Buffer.alloc((ALIGN - (head.length % ALIGN)) % ALIGN), ...data]);
  writeFileSync(path, file);
  return { bytes: file.length, vocabulary: tokens.length };
}
