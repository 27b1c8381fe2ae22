// Where output goes. With --json every line on stdout is one JSON object (scripts and tests parse
// it); without, stdout carries human text and stderr carries notes and errors.

import type { Writable } from 'node:stream';

export class Output {
  readonly json: boolean;
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable;

  constructor(json: boolean, stdout: Writable = process.stdout, stderr: Writable = process.stderr) {
    this.json = json;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** True when a live progress line can be redrawn in place. */
  get interactive(): boolean {
    return !this.json && this.stdout.isTTY === true;
  }

  /** A machine-readable event; printed only in --json mode. */
  event(name: string, fields: Record<string, unknown> = {}): void {
    if (this.json) this.line({ event: name, ...fields });
  }

  /** A JSON object on its own line (Infinity/NaN become null, as JSON has neither). */
  line(obj: unknown): void {
    this.stdout.write(JSON.stringify(obj) + '\n');
  }

  /** Human text on stdout; silent in --json mode. */
  say(text: string): void {
    if (!this.json) this.stdout.write(text + '\n');
  }

  /** Human notes (hints, warnings) on stderr; silent in --json mode. */
  note(text: string): void {
    if (!this.json) this.stderr.write(text + '\n');
  }

  /** Errors: an event on stdout in --json mode, `cascade: …` on stderr otherwise; the detail
   *  (--verbose) after it, indented. */
  error(message: string, detail?: string): void {
    if (this.json) this.line({ event: 'error', message, ...(detail !== undefined ? { detail } : {}) });
    else this.stderr.write(`cascade: ${message}\n${detail !== undefined ? detail.replace(/^/gm, '  ') + '\n' : ''}`);
  }

  /** A verb's result: the object itself in --json mode, rendered text otherwise. */
  result(obj: unknown, human: () => string): void {
    if (this.json) this.line(obj);
    else {
      const text = human();
      if (text !== '') this.stdout.write(text.endsWith('\n') ? text : text + '\n');
    }
  }
}
