// node:http and node:https, loaded through require when first used. An ESM import of node:http
// builds its module facade, which reads every export, WebSocket and MessageEvent among them, and
// those getters load undici: some 70 ms of CPU on every process start (7 ms through require), paid
// by each `cascade download` before its first byte. node:https loads TLS (30 ms), which a node that
// never fetches an https:// URL does not need at all.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const nodeHttp = (): typeof import('node:http') => require('node:http');
export const nodeHttps = (): typeof import('node:https') => require('node:https');
