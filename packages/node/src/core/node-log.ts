// Where a node reports. A leaf: every feature may log without importing the node.

/** Where a node reports: JSON events and human lines. The CLI's Output satisfies it. */
export interface NodeLog {
  event(name: string, fields?: Record<string, unknown>): void;
  say(text: string): void;
  note(text: string): void;
}

/** A log that drops everything (offline verbs, tests). */
export const silentLog: NodeLog = { event() {}, say() {}, note() {} };
