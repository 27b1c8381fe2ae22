// deploy/k8s rendered for real with `kubectl kustomize`, then checked the way a cluster would use
// it: references resolve (Services → pod ports, Ingress → Services, ConfigMap keys), the commands
// parse with the real CLIs after Kubernetes' $(VAR) expansion, containers are locked down and
// sized, and the probe paths answer on the real node and tracker started with those arguments —
// including the Host headers the kubelet, the Service and the Ingress send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../../packages/cli/src/parse/args.ts';
import { parseTrackerArgs } from '../../packages/tracker/src/cli.ts';
import { freePort, startRedis, waitFor } from '../../packages/tracker/test/helpers.ts';
import { startPostgres } from '../../packages/node/test/postgres-server.ts';
import { cleanups, execForm, expandK8s, finalInstruction, localMember, localTracker, readDockerfile, renderK8s, runEntrypoint } from './deploy-helpers.ts';

const objects = renderK8s();
const find = (kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `no ${kind} ${name} in the rendered manifests`);
  return o;
};
const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('cascade-config-'));
const workloads = objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
const podSpec = (w: any) => w.spec.template.spec;
const container = (w: any) => podSpec(w).containers[0];

/**
 * A container's environment as Kubernetes resolves it (values, ConfigMap keys, the pod's name and
 * namespace for the workload's first pod; Secrets left out).
 */
function envOf(c: any, w?: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (field === 'metadata.name') env[e.name] = `${w.metadata.name}-0`;
    if (field === 'metadata.namespace') env[e.name] = w.metadata.namespace;
    const ref = e.valueFrom?.configMapKeyRef;
    if (ref) {
      assert.equal(ref.name, config.metadata.name, `${e.name} reads the generated ConfigMap`);
      assert.ok(ref.key in config.data, `${e.name}: the ConfigMap has no key ${ref.key}`);
      env[e.name] = config.data[ref.key];
    }
    if (e.valueFrom?.secretKeyRef) assert.equal(e.valueFrom.secretKeyRef.optional, true, `${e.name}: a missing Secret must not stop the pod`);
  }
  return env;
}
const argsOf = (w: any) => (container(w).args as string[]).map((a) => expandK8s(a, envOf(container(w), w)));
/** The labels of a workload's pods: its template's, and a StatefulSet pod's own name. */
const podLabels = (w: any, i = 0): Record<string, string> => ({
  ...w.spec.template.metadata.labels,
  ...(w.kind === 'StatefulSet' ? { 'statefulset.kubernetes.io/pod-name': `${w.metadata.name}-${i}` } : {}),
});
const selectsPod = (sel: Record<string, string>, w: any) => {
  const pods = w.kind === 'StatefulSet' ? w.spec.replicas : 1;
  return Array.from({ length: pods }, (_, i) => podLabels(w, i)).some((l) => Object.entries(sel).every(([k, v]) => l[k] === v));
};

const node = find('StatefulSet', 'cascade-node');
const tracker = find('Deployment', 'cascade-tracker');
const nodeArgs = argsOf(node);
const trackerArgs = argsOf(tracker);

test('renders: everything in the cascade namespace, the image set by kustomize', () => {
  assert.ok(find('Namespace', 'cascade'));
  for (const o of objects.filter((x) => x.kind !== 'Namespace')) assert.equal(o.metadata.namespace, 'cascade', `${o.kind} ${o.metadata.name}`);
  for (const w of [node, tracker]) assert.equal(container(w).image, 'registry.example.org/cascade:latest');
  assert.ok(!nodeArgs.concat(trackerArgs).some((a) => /\$\(/.test(a)), 'every $(VAR) in args has a value');
});

test('the node: a StatefulSet on the image CMD, state and downloads on claims where the image keeps them', () => {
  const cmd = execForm(finalInstruction(readDockerfile(), 'CMD').args);
  assert.deepEqual(nodeArgs.slice(0, cmd.length), cmd, 'starts with the image CMD');
  const o = parseCommandLine(nodeArgs, {}).options;
  const ports = Object.fromEntries((container(node).ports as any[]).map((p) => [p.name, `${p.containerPort}/${p.protocol}`]));
  assert.deepEqual(ports, { http: `${o.httpPort}/TCP`, 'bt-tcp': `${o.port}/TCP`, 'bt-udp': `${o.port}/UDP`, 'tracker-http': `${o.trackerPort}/TCP`, 'tracker-udp': `${o.trackerPort}/UDP` });
  const claims = (node.spec.volumeClaimTemplates as any[]).map((v) => v.metadata.name);
  const mounts = Object.fromEntries((container(node).volumeMounts as any[]).map((m) => [m.mountPath, m.name]));
  const volumes = execForm(finalInstruction(readDockerfile(), 'VOLUME').args);
  for (const path of volumes) assert.ok(claims.includes(mounts[path]), `${path} is on a persistent volume claim`);
  assert.equal(find('Service', node.spec.serviceName).spec.clusterIP, 'None', 'the governing Service is headless');
  const ingressHosts = (find('Ingress', 'cascade').spec.rules as any[]).map((r) => r.host);
  // Names with a dot are the Ingress's, but for the member's own stable name (the test below).
  const own = new URL(o.cluster!.url).hostname;
  for (const h of o.allowedHosts.filter((x) => x.includes('.') && x !== own)) assert.ok(ingressHosts.includes(h), `allowed host ${h} is an Ingress host`);
  assert.ok(ingressHosts.includes(new URL(o.publicUrl!).hostname), 'the public URL is served by the Ingress');
});

test('the node is a cluster of 3: members by their stable names, on the PostgreSQL Service with the Secret\'s password, on Redis; a PDB; a peers Service per member', () => {
  assert.equal(node.spec.replicas, 3);
  const o = parseCommandLine(nodeArgs, {}).options;
  const headless = find('Service', node.spec.serviceName);
  assert.equal(headless.spec.publishNotReadyAddresses, true, 'members reach one that is not ready (starting, fenced)');
  const self = `${node.metadata.name}-0.${headless.metadata.name}.${node.metadata.namespace}.svc`;
  assert.equal(o.cluster!.url, `http://${self}:${o.httpPort}`, '--cluster-url is the pod\'s stable DNS name on its HTTP port');
  assert.ok(o.allowedHosts.includes(self), 'and it answers to that name');
  // The database: the PostgreSQL Service's port, no password in the URL; the password file the
  // entrypoint reads is the cascade-postgres Secret's key, which PostgreSQL reads too.
  const db = new URL(o.database!);
  const pgSvc = find('Service', db.hostname);
  assert.ok((pgSvc.spec.ports as any[]).some((p) => String(p.port) === db.port));
  assert.equal(db.password, '');
  const postgres = find('StatefulSet', 'cascade-postgres');
  const pgEnv = envOf(container(postgres));
  assert.equal(db.username, pgEnv.POSTGRES_USER);
  assert.equal(db.pathname, `/${pgEnv.POSTGRES_DB}`);
  const secretFile = (w: any, path: string) => {
    const c = container(w);
    const mount = (c.volumeMounts as any[]).find((m) => path.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `${w.metadata.name}: nothing mounted at ${path}`);
    const vol = (podSpec(w).volumes as any[]).find((v) => v.name === mount.name);
    return `${vol.secret?.secretName}/${path.slice(mount.mountPath.length + 1)}`;
  };
  const nodeFile = secretFile(node, envOf(container(node), node).CASCADE_DATABASE_PASSWORD_FILE!);
  assert.equal(nodeFile, 'cascade-postgres/password');
  assert.equal(secretFile(postgres, pgEnv.POSTGRES_PASSWORD_FILE!), nodeFile);
  assert.ok(postgres.spec.volumeClaimTemplates.length === 1, 'PostgreSQL keeps its data on a claim');
  const redis = new URL(o.cluster!.redis!);
  assert.ok((find('Service', redis.hostname).spec.ports as any[]).some((p) => String(p.port) === redis.port));
  const pdb = find('PodDisruptionBudget', 'cascade-node');
  assert.deepEqual(pdb.spec.selector.matchLabels, node.spec.selector.matchLabels);
  assert.equal(pdb.spec.maxUnavailable, 1);
  // BitTorrent from outside: one LoadBalancer per member, each selecting that member's pod only.
  for (let i = 0; i < node.spec.replicas; i++) {
    const peers = find('Service', `${node.metadata.name}-${i}-peers`);
    assert.equal(peers.spec.type, 'LoadBalancer');
    assert.equal(peers.spec.selector['statefulset.kubernetes.io/pod-name'], `${node.metadata.name}-${i}`);
  }
  assert.equal(find('Service', 'cascade-node').spec.sessionAffinity ?? 'None', 'None', 'no sticky sessions');
});

test('the trackers: ≥ 2 replicas on the Redis Service, scaled on CPU by an autoscaling/v2 HPA', () => {
  assert.ok(tracker.spec.replicas >= 2);
  const { opts } = parseTrackerArgs(trackerArgs.slice(1));
  assert.equal(trackerArgs[0], 'tracker');
  assert.equal(opts.ws, true);
  const redis = new URL(opts.redis!);
  const svc = find('Service', redis.hostname);
  assert.ok((svc.spec.ports as any[]).some((p) => String(p.port) === redis.port));
  const ports = Object.fromEntries((container(tracker).ports as any[]).map((p) => [p.name, `${p.containerPort}/${p.protocol}`]));
  assert.deepEqual(ports, { http: `${opts.httpPort}/TCP`, udp: `${opts.udpPort}/UDP` });
  const hpa = find('HorizontalPodAutoscaler', 'cascade-tracker');
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cascade-tracker' });
  assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
  assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
  assert.ok(container(tracker).resources.requests.cpu, 'CPU utilisation needs a CPU request');
  const pdb = find('PodDisruptionBudget', 'cascade-tracker');
  assert.deepEqual(pdb.spec.selector.matchLabels, tracker.spec.selector.matchLabels);
});

test('only the trackers and the node\'s members reach Redis; only the members reach PostgreSQL', () => {
  for (const [kind, name, allowed] of [['Deployment', 'cascade-redis', ['cascade-node', 'cascade-tracker']], ['StatefulSet', 'cascade-postgres', ['cascade-node']]] as const) {
    const policy = find('NetworkPolicy', name);
    assert.ok(selectsPod(policy.spec.podSelector.matchLabels, find(kind, name)));
    const from = policy.spec.ingress.flatMap((r: any) => r.from.map((f: any) => f.podSelector.matchLabels));
    assert.deepEqual(workloads.filter((w) => from.some((sel: Record<string, string>) => selectsPod(sel, w))).map((w) => w.metadata.name).sort(), [...allowed]);
  }
});

test('every container: non-root, read-only root, no capabilities, requests and limits, probes on its own ports', () => {
  for (const w of workloads) {
    const pod = podSpec(w);
    for (const c of pod.containers) {
      const where = `${w.metadata.name}/${c.name}`;
      const sc = { ...pod.securityContext, ...c.securityContext };
      assert.equal(sc.runAsNonRoot, true, `${where} runAsNonRoot`);
      assert.ok(sc.runAsUser > 0, `${where} runAsUser`);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${where} readOnlyRootFilesystem`);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, where);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'], where);
      for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) assert.ok(c.resources?.[kind]?.[r], `${where} ${kind}.${r}`);
      const names = new Set((c.ports as any[]).map((p) => p.name));
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        const p = c[probe];
        if (!p) continue;
        const port = p.httpGet?.port ?? p.tcpSocket?.port;
        if (port !== undefined) assert.ok(names.has(port), `${where} ${probe} uses port ${port}, not one of ${[...names].join(', ')}`);
      }
      assert.ok(c.readinessProbe && c.livenessProbe, `${where} has readiness and liveness probes`);
    }
  }
});

test('Services reach a named port of the pods they select; Ingress backends are Services and ports that exist', () => {
  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const pods = workloads.filter((w) => selectsPod(svc.spec.selector, w));
    assert.equal(pods.length, 1, `Service ${svc.metadata.name} selects one workload`);
    const cports = podSpec(pods[0]).containers.flatMap((c: any) => c.ports);
    for (const p of svc.spec.ports) {
      const target = cports.find((c: any) => c.name === p.targetPort);
      assert.ok(target, `Service ${svc.metadata.name} port ${p.name}: no container port named ${p.targetPort}`);
      assert.equal(target.protocol, p.protocol ?? 'TCP', `Service ${svc.metadata.name} port ${p.name} protocol`);
    }
  }
  const backends = (find('Ingress', 'cascade').spec.rules as any[]).flatMap((r) => r.http.paths.map((p: any) => ({ host: r.host, path: p.path, ...p.backend.service })));
  for (const b of backends) {
    const svc = find('Service', b.name);
    assert.ok((svc.spec.ports as any[]).some((p) => p.name === b.port.name), `Ingress ${b.host}${b.path}: Service ${b.name} has no port ${b.port.name}`);
  }
  const announce = backends.find((b) => b.path === '/announce');
  assert.equal(announce?.name, 'cascade-tracker', 'announces through the Ingress go to the tracker replicas');
});

/** GET with a Host header of our choosing, as the kubelet (pod IP), a Service or the Ingress send it. */
function get(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    // A probe gives up after its timeoutSeconds; so does this.
    req.setTimeout(5_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

test('a member started with the StatefulSet args answers its probes, its own name, the Service name and the Ingress host', { timeout: 90_000 }, async (t) => {
  const later = cleanups(t);
  const root = mkdtempSync(join(tmpdir(), 'cascade-k8s-'));
  later(() => rmSync(root, { recursive: true, force: true }));
  // The metrics token as the Secret would put it in the environment, under the name the manifest uses.
  const tokenVar = (container(node).env as any[]).find((e) => e.valueFrom?.secretKeyRef?.key === 'metrics-token').name as string;
  const metricsToken = 'k8s-test-metrics-token-0123456789';
  // Its PostgreSQL asks for the password, which the member reads from the file the Secret would be.
  const password = 'k8s-test-postgres-password';
  const passwordFile = join(root, 'password');
  writeFileSync(passwordFile, password);
  const pg = await startPostgres(t, { password });
  const redis = await startRedis();
  later(() => redis.stop());
  const port = await freePort();
  const args = localMember(nodeArgs, join(root, 'downloads'), { httpPort: port, database: await pg.database('cascade'), redis: redis.url });
  const run = await runEntrypoint(args, { env: { CASCADE_HOME: join(root, 'data'), [tokenVar]: metricsToken, CASCADE_DATABASE_PASSWORD_FILE: passwordFile } });
  later(() => run.stop());
  const o = parseCommandLine(nodeArgs, {}).options;
  const c = container(node);
  // Readiness (/api/health/ready) waits for the library to load, which goes on after the port listens.
  let readyStatus = 0;
  await waitFor(async () => (readyStatus = (await get(port, c.readinessProbe.httpGet.path, `10.42.0.7:${o.httpPort}`)).status) === 200, 20_000, 'the node to be ready');
  assert.equal(c.readinessProbe.httpGet.path, '/api/health/ready');
  assert.equal(readyStatus, 200);
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    const r = await get(port, c[probe].httpGet.path, `10.42.0.7:${o.httpPort}`);
    assert.equal(r.status, 200, `${probe} ${c[probe].httpGet.path} as the kubelet asks it`);
  }
  const svcName = o.allowedHosts.find((h) => !h.includes('.'))!;
  assert.equal((await get(port, '/api/health', new URL(o.cluster!.url).host)).status, 200, 'by its stable name, as the other members reach it');
  assert.equal((await get(port, '/api/health', `${svcName}:${o.httpPort}`)).status, 200, 'through the cluster Service name');
  const ingress = await get(port, '/api/health', config.data['allowed-host']);
  assert.equal(ingress.status, 200, 'through the Ingress host');
  assert.equal(JSON.parse(ingress.body).tracker.http, `${config.data['public-url']}/announce`, 'the public URL is what the node hands out');
  assert.equal((await get(port, '/api/health', 'not-listed.example.org')).status, 403, 'a host nobody configured is refused');
  // Prometheus in the cluster, by pod IP, with the Secret's token.
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
  assert.equal(metrics.status, 200, `${tokenVar} from the Secret reads /metrics`);
});

test('a tracker started with the Deployment args answers its readiness path (with Redis) and liveness port', { timeout: 60_000 }, async (t) => {
  const later = cleanups(t);
  const redis = await startRedis();
  later(() => redis.stop());
  const run = await runEntrypoint(localTracker(trackerArgs, redis.url));
  later(() => run.stop());
  const port = Number(new URL(run.listening.stats).port);
  const c = container(tracker);
  const ready = await get(port, c.readinessProbe.httpGet.path, `10.42.0.8:${c.ports[0].containerPort}`);
  assert.equal(ready.status, 200);
  assert.equal(typeof JSON.parse(ready.body), 'object');
  assert.equal(c.livenessProbe.tcpSocket.port, 'http', 'liveness: the HTTP port accepts connections (it just did)');
  // Without Redis the replica must leave the Service (once /stats' one-second cache is stale).
  await redis.stop();
  let status = 200;
  await waitFor(async () => {
    status = (await get(port, c.readinessProbe.httpGet.path, '10.42.0.8').catch(() => ({ status: 0 }))).status;
    return status !== 200;
  }, 30_000, 'readiness to fail without Redis');
  t.diagnostic(`readiness with Redis stopped: ${status === 0 ? 'no answer' : `HTTP ${status}`}`);
});
