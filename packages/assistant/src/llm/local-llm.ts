// A GGUF model run in this process by node-llama-cpp (serve --llm-gguf): the same prompt as the
// OpenAI path, streamed, and nothing leaves the machine. node-llama-cpp is not a dependency of the
// repo: with its optional GPU builds it is 725 MB, which every install would pay for. `npm run
// install:llm` puts only the Linux x64 CPU build (85 MB) in .cache/llm, and it is loaded only when a
// node is started with --llm-gguf.
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ChatMessage } from './llm.ts';
import type { LlmConfig, LocalLlmConfig } from '../types.ts';

export const INSTALL_LLM_HINT = 'npm run install:llm';
/** Where `npm run install:llm` installs node-llama-cpp (the repo's .cache/llm). */
export const LLM_CACHE_DIR = join(fileURLToPath(new URL('../../../..', import.meta.url)), '.cache', 'llm');
const DEFAULT_MAX_TOKENS = 400;
/** Big enough for the prompt (findings + up to four entries of ~1,800 characters) and an answer,
 *  small enough that the KV cache of a 7B model stays near 1 GB. */
const MAX_CONTEXT = 8192;

export function isLocalLlm(c: LlmConfig): c is LocalLlmConfig {
  return 'gguf' in c;
}

/** What a user sees as the model's name: the file's. */
export function localModelName(c: LocalLlmConfig): string {
  return basename(c.gguf);
}

export class LocalLlmError extends Error {
  override name = 'LocalLlmError';
}

/** Refuses a path that is not a GGUF file before anything heavy loads (a typo should not cost a
 *  native library load, nor crash inside it). */
export async function checkGgufFile(path: string): Promise<void> {
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await fh.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LocalLlmError(`--llm-gguf ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a model file' : (err as Error).message}`);
  }
  if (head.toString('latin1') !== 'GGUF') throw new LocalLlmError(`--llm-gguf ${path}: not a GGUF model file (it does not start with "GGUF")`);
}

// The few parts of node-llama-cpp's API used here, typed structurally: the package is optional, so
// the repo's type check cannot import its types.
interface LlamaSequence {
  clearHistory(): Promise<void>;
}
interface LlamaModule {
  getLlama(o: { gpu: false; maxThreads: number; build: 'never'; logLevel: 'error' }): Promise<{
    loadModel(o: { modelPath: string }): Promise<{
      trainContextSize: number;
      createContext(o: { contextSize: number; threads: number }): Promise<{ getSequence(): LlamaSequence; dispose(): Promise<void> }>;
      dispose(): Promise<void>;
    }>;
    dispose(): Promise<void>;
  }>;
  LlamaChatSession: new (o: { contextSequence: LlamaSequence; systemPrompt: string }) => {
    prompt(text: string, o: { maxTokens: number; signal?: AbortSignal; stopOnAbortSignal?: boolean; temperature: number; onTextChunk(t: string): void }): Promise<string>;
    dispose(o: { disposeSequence: boolean }): void;
  };
}

/** node-llama-cpp, installed normally or by `npm run install:llm`; a clear error when neither. */
export async function loadNodeLlamaCpp(cacheDir = LLM_CACHE_DIR): Promise<LlamaModule> {
  const name = 'node-llama-cpp';
  try {
    return (await import(name)) as LlamaModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw new LocalLlmError(`node-llama-cpp is installed but does not load: ${(err as Error).message}`);
  }
  const entry = join(cacheDir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
  try {
    return (await import(pathToFileURL(entry).href)) as LlamaModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new LocalLlmError(`--llm-gguf needs node-llama-cpp, which is not installed: run \`${INSTALL_LLM_HINT}\` (the Linux x64 CPU build, 85 MB, into ${cacheDir})`);
    }
    throw new LocalLlmError(`node-llama-cpp in ${cacheDir} does not load: ${(err as Error).message}`);
  }
}

/** One loaded model with one context, answering one question at a time: on a machine of a few
 *  cores two generations side by side are each slower than one after the other, and one context
 *  keeps memory to one KV cache. */
export class LocalModel {
  readonly name: string;
  readonly #mod: LlamaModule;
  readonly #sequence: LlamaSequence;
  readonly #close: () => Promise<void>;
  readonly #maxTokens: number;
  #turn: Promise<void> = Promise.resolve();

  private constructor(mod: LlamaModule, name: string, sequence: LlamaSequence, maxTokens: number, close: () => Promise<void>) {
    this.#mod = mod;
    this.name = name;
    this.#sequence = sequence;
    this.#maxTokens = maxTokens;
    this.#close = close;
  }

  static async load(config: LocalLlmConfig): Promise<LocalModel> {
    await checkGgufFile(config.gguf);
    const mod = await loadNodeLlamaCpp();
    // Left alone node-llama-cpp takes more threads than a small machine has, and every token crawls.
    const threads = config.threads ?? availableParallelism();
    const llama = await mod.getLlama({ gpu: false, maxThreads: threads, build: 'never', logLevel: 'error' });
    try {
      const model = await llama.loadModel({ modelPath: config.gguf });
      const context = await model.createContext({ contextSize: Math.min(model.trainContextSize, MAX_CONTEXT), threads });
      return new LocalModel(mod, localModelName(config), context.getSequence(), config.maxTokens ?? DEFAULT_MAX_TOKENS, async () => {
        await context.dispose();
        await model.dispose();
        await llama.dispose();
      });
    } catch (err) {
      await llama.dispose().catch(() => {});
      throw new LocalLlmError(`--llm-gguf ${config.gguf}: node-llama-cpp cannot load it: ${(err as Error).message}`);
    }
  }

  /** The answer's text pieces as the model writes them. */
  async *stream(messages: ChatMessage[], signal?: AbortSignal): AsyncGenerator<string> {
    const previous = this.#turn;
    let release!: () => void;
    this.#turn = new Promise((r) => (release = r));
    await previous;
    try {
      await this.#sequence.clearHistory();
      const system = messages.filter((m) => m.role === 'system').map((m) => m.content).join('\n');
      const user = messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
      const session = new this.#mod.LlamaChatSession({ contextSequence: this.#sequence, systemPrompt: system });
      const pieces: string[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      let failure: unknown;
      const done = session
        .prompt(user, { maxTokens: this.#maxTokens, signal, temperature: 0.2, onTextChunk: (t) => (pieces.push(t), wake?.()) })
        .then(
          () => undefined,
          (err: unknown) => void (failure = err),
        )
        .finally(() => ((finished = true), wake?.()));
      try {
        for (;;) {
          if (pieces.length > 0) yield pieces.shift()!;
          else if (finished) break;
          else await new Promise<void>((r) => (wake = r));
        }
      } finally {
        await done;
        session.dispose({ disposeSequence: false });
      }
      if (failure !== undefined) throw failure;
    } finally {
      release();
    }
  }

  close(): Promise<void> {
    return this.#close();
  }
}
