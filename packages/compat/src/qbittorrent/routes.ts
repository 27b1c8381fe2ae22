// qBittorrent Web API v2 at /api/v2/<scope>/<action>, answered the way qBittorrent 4.6's
// WebApplication does: CSRF check (Origin/Referer vs Host → 401), then the session (no SID → 403
// "Forbidden" for all but auth/login), then the action (unknown → 404, wrong method → 405), its
// errors as plain text with their status. Bodies are form-encoded or multipart; the query is read too.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CompatOps } from '../ops.ts';
import { type ActionContext, type ActionSpec, type UploadedFile, JsonText, QbError, statusText } from './http.ts';
import { EXPIRED_COOKIE, SessionStore, isCrossSite, sessionCookie, sidFromCookie } from './session.ts';

type Scopes = Record<string, Record<string, ActionSpec>>;

/** The actions by scope, loaded by the first request of a signed-in client, not at every node's
 *  start: they are most of the adapter's modules (issue 64 item 4). */
let scopes: Promise<Scopes> | undefined;
function loadScopes(): Promise<Scopes> {
  scopes ??= Promise.all([
    import('./app.ts'),
    import('./torrents-read.ts'),
    import('./torrents-write.ts'),
    import('./torrents-add.ts'),
    import('./torrents-edit.ts'),
    import('./transfer.ts'),
    import('./sync.ts'),
    import('./peers.ts'),
    import('./rss.ts'),
    import('./search.ts'),
  ]).then(([app, read, write, add, edit, transfer, sync, peers, rss, search]) => ({
    app: app.appActions,
    torrents: { ...read.torrentsReadActions, ...write.torrentsWriteActions, ...add.torrentsAddActions, ...edit.torrentsEditActions },
    transfer: { ...transfer.transferActions, banPeers: peers.banPeers },
    sync: { ...sync.syncActions, ...peers.peerSyncActions },
    log: peers.logActions,
    rss: rss.rssActions,
    search: search.searchActions,
  }));
  // A module that failed to load is tried again by the next request.
  scopes.catch(() => (scopes = undefined));
  return scopes;
}

/** Same as qBittorrent's m_apiPathPattern. */
const API_PATH = /^\/api\/v2\/([A-Za-z_][A-Za-z_0-9]*)\/([A-Za-z_][A-Za-z_0-9]*)$/;
/** Form bodies are small; .torrent uploads go through multipart, bounded by the node's upload limit. */
const FORM_BODY_LIMIT = 1024 * 1024;

function sendText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=UTF-8').send(text);
}

function addParams(into: Map<string, string>, source: unknown): void {
  if (typeof source === 'string') {
    for (const [k, v] of new URLSearchParams(source)) into.set(k, v);
  } else if (source && typeof source === 'object') {
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      if (typeof v === 'string') into.set(k, v);
      else if (typeof v === 'number' || typeof v === 'boolean') into.set(k, String(v));
      else if (Array.isArray(v) && typeof v[0] === 'string') into.set(k, v[v.length - 1] as string);
    }
  }
}

/** Query and body merged (the body wins); multipart fields are parameters, file parts uploads. */
async function readRequest(req: FastifyRequest, withQuery = true): Promise<{ params: Map<string, string>; files: UploadedFile[] }> {
  const params = new Map<string, string>();
  const files: UploadedFile[] = [];
  if (withQuery) addParams(params, req.query);
  if (req.isMultipart()) {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const data = await part.toBuffer();
        files.push({ field: part.fieldname, filename: part.filename, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
      } else if (typeof part.value === 'string') params.set(part.fieldname, part.value);
    }
  } else addParams(params, req.body);
  return { params, files };
}

export function qbittorrentRoutes(app: FastifyInstance, ops: CompatOps): void {
  const sessions = new SessionStore(Date.now, ops.qbSessions, () => ops.credential?.() ?? '');

  async function handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    reply.header('cache-control', 'no-store');
    const path = req.url.split('?')[0]!;
    // The target is X-Forwarded-Host when a proxy sets it, as qBittorrent reads it (a page cannot
    // set that header on a cross-site request without a CORS preflight nobody answers).
    const forwarded = req.headers['x-forwarded-host'];
    const host = (typeof forwarded === 'string' && forwarded.split(',')[0]!.trim()) || req.headers.host;
    if (isCrossSite({ host, origin: req.headers.origin, referer: req.headers.referer })) return sendText(reply, 401, 'Unauthorized');
    const match = API_PATH.exec(path);
    if (!match) return sendText(reply, 404, 'Not Found');
    const [, scope, action] = match as unknown as [string, string, string];
    const session = await sessions.get(sidFromCookie(req.headers.cookie));
    if (scope === 'auth') return auth(req, reply, action, session?.id);
    if (!session) return sendText(reply, 403, 'Forbidden');

    const actions = await loadScopes();
    const spec = actions[scope]?.[action];
    if (!spec || !Object.hasOwn(actions[scope]!, action)) return sendText(reply, 404, 'Not Found');
    if (spec.method === 'any' ? req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD' : req.method !== spec.method) {
      return sendText(reply, 405, 'Method Not Allowed');
    }
    const { params, files } = await readRequest(req);
    const ctx: ActionContext = { ops, session, params, files, origin: `${req.protocol}://${host ?? req.hostname}` };
    const result = await spec.run(ctx);
    if (result === undefined) return sendText(reply, 200, '');
    if (typeof result === 'string') return sendText(reply, 200, result);
    if (result instanceof JsonText) return reply.code(200).type('application/json').header('content-length', result.bytes).send(result.text);
    return reply.code(200).type('application/json').send(JSON.stringify(result));
  }

  async function auth(req: FastifyRequest, reply: FastifyReply, action: string, sid: string | undefined): Promise<FastifyReply> {
    if (action !== 'login' && action !== 'logout') return sendText(reply, 404, 'Not Found');
    if (req.method !== 'POST') return sendText(reply, 405, 'Method Not Allowed');
    if (action === 'logout') {
      if (sid) await sessions.end(sid);
      reply.header('set-cookie', EXPIRED_COOKIE);
      return sendText(reply, 200, '');
    }
    // Already logged in: "Ok." without a new cookie, as qBittorrent.
    if (sid) return sendText(reply, 200, 'Ok.');
    const address = req.ip;
    if (await sessions.isBanned(address)) return sendText(reply, 403, 'Your IP address has been banned after too many failed authentication attempts.');
    // The form body only: a password in the query string would end up in logs.
    const { params } = await readRequest(req, false);
    // Any user name; the password is the node's API token.
    const password = params.get('password') ?? '';
    // Read with the check, in the same turn: the session is the credential's that let it in.
    const credential = sessions.credential();
    if (password === '' || !ops.checkPassword(password)) {
      await sessions.loginFailed(address);
      return sendText(reply, 200, 'Fails.');
    }
    await sessions.loginSucceeded(address);
    const s = await sessions.start(credential);
    reply.header('set-cookie', sessionCookie(s.id));
    return sendText(reply, 200, 'Ok.');
  }

  void app.register(async (api) => {
    // Fastify parses JSON only; qBittorrent clients post forms. Anything else is read as a form too
    // (some clients send no content type at all).
    api.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => done(null, body));
    api.addContentTypeParser('*', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => done(null, body));
    api.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      if (err instanceof QbError) return sendText(reply, err.status, err.message);
      // The node's database away (its NodeError of kind 'unavailable', issue 42): a 503 that says so,
      // as qBittorrent's own plain-text errors do; a client retries it like any server error.
      if ((err as { kind?: unknown }).kind === 'unavailable') return sendText(reply.header('retry-after', '5'), 503, err.message);
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      // Client mistakes (a body too large, a broken multipart…) say what; anything else stays generic.
      return sendText(reply, status, status < 500 ? err.message || statusText(status) : statusText(500));
    });
    api.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
      url: '/api/v2/*',
      config: { access: 'public', selfAuth: true },
      // Another client's API, documented by that client: not part of Cascade's OpenAPI document.
      schema: { hide: true },
      handler: handle,
    });
  });
}
