// Entry point: parse the command line, run the command, turn errors into exit codes
// (0 ok, 1 runtime error, 2 usage error, 130 interrupted).

// First: relative imports resolved without a stat and a realpath each, for the command's modules
// too when this file is run as `node main.ts` (the launcher imports it before this file).
import './core/load-hooks.ts';
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { COMMANDS, parseCommandLine, usageText, type Invocation } from './parse/args.ts';
import { NodeError } from '@cascade/node/basics';
import { CliError, UsageError } from './core/errors.ts';
import { errorReport } from './core/error-report.ts';
import { optionService, servicesOf, type Service } from './core/unreachable.ts';
import { Output } from './output/output.ts';

// Each command's module is imported when that command runs: `cascade list` should not pay for
// loading `serve`'s web stack (Fastify, socket.io) or `create`'s hashing, and a long-running
// `serve` should not hold the verbs' code.

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function dispatch(inv: Invocation, out: Output): Promise<number> {
  if (inv.options.help || inv.command === 'help') {
    const topic = inv.command === 'help' ? inv.positionals[0] : inv.command;
    // The tracker's options are its own parser's (@cascade/tracker): its help comes from there.
    if (topic === 'tracker') return runTracker(['--help'], out);
    if (topic !== undefined && !Object.hasOwn(COMMANDS, topic)) {
      throw new UsageError(`unknown command "${topic}"; \`cascade help\` lists them`);
    }
    out.stdout.write(usageText(topic) + '\n');
    return 0;
  }
  switch (inv.command) {
    case 'create':
      return (await import('./commands/create.ts')).createCommand(inv, out);
    case 'seed':
      return (await import('./commands/seed.ts')).seedCommand(inv, out);
    case 'download':
      return (await import('./commands/download.ts')).downloadCommand(inv, out);
    case 'serve':
      return (await import('./commands/serve.ts')).serveCommand(inv, out);
    case 'identity':
      return (await import('./commands/identity.ts')).identityCommand(inv, out);
    case 'chain':
      return (await import('./commands/chain.ts')).chainCommand(inv, out);
    case 'token':
      return (await import('./commands/users.ts')).tokenCommand(inv, out);
    case 'claim-code':
      return (await import('./commands/users.ts')).claimCodeCommand(inv, out);
    case 'users':
      return (await import('./commands/users.ts')).usersCommand(inv, out);
    case 'relay':
      return (await import('./commands/relay.ts')).relayCommand(inv, out);
    case 'ask':
      return (await import('./commands/ask.ts')).askCommand(inv, out);
    case 'db':
      return (await import('./commands/db.ts')).dbCommand(inv, out);
    case 'rss':
      return (await import('./commands/rss.ts')).rssCommand(inv, out);
    case 'market':
      return (await import('./commands/market.ts')).marketCommand(inv, out);
    default:
      return (await import('./commands/verbs.ts')).runVerb(inv, out);
  }
}

/**
 * `cascade download --json | head -3`: once the reader goes away, writes fail with EPIPE. Treat it
 * like SIGTERM, so a running node still shuts down cleanly (and saves resume data).
 */
function handleClosedStdout(): void {
  let handled = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (handled) return;
    handled = true;
    if (err.code === 'EPIPE') process.kill(process.pid, 'SIGTERM');
    else process.stderr.write(`cascade: cannot write output: ${err.message}\n`);
  });
}

/**
 * Runs one command line; resolves with its exit code. `io` gives the command other streams than the
 * process's (the tests run many verbs in one process this way: each `cascade` process costs ~0.4
 * CPU-s loading modules); --version and the tracker's help still write to the process's own.
 */
export async function main(argv: string[], io?: { stdout: Writable; stderr: Writable }): Promise<number> {
  if (!io) handleClosedStdout();
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`cascade ${version()} (Node ${process.version})\n`);
    return 0;
  }
  // --json and --verbose are known before parsing, so even a usage error comes out as they ask.
  const out = new Output(argv.includes('--json'), io?.stdout, io?.stderr);
  // The services the command line names: a failure to reach one of them is said as such.
  let services: Service[] = [];
  try {
    if (argv.length === 0) {
      process.stderr.write(usageText() + '\n');
      return 2;
    }
    // The tracker is its own program with its own options; the CLI only hands it the arguments.
    if (argv[0] === 'tracker') {
      services = trackerServices(argv.slice(1));
      return await runTracker(argv.slice(1), out);
    }
    const inv = parseCommandLine(argv);
    services = servicesOf(inv.options);
    return await dispatch(inv, out);
  } catch (err) {
    const report = errorReport(err, services);
    out.error(report.line, argv.includes('--verbose') ? report.detail : undefined);
    if (err instanceof CliError || err instanceof NodeError) return err.exitCode;
    // An unexpected exception is a bug: keep the stack for the report.
    if (!out.json && err instanceof Error && err.stack && process.env.CASCADE_DEBUG) process.stderr.write(err.stack + '\n');
    return 1;
  }
}

/** The tracker's --redis (its parser is its own): the one service it needs to start. */
function trackerServices(args: string[]): Service[] {
  const at = args.findIndex((a) => a === '--redis' || a.startsWith('--redis='));
  const url = at < 0 ? undefined : args[at]!.startsWith('--redis=') ? args[at]!.slice('--redis='.length) : args[at + 1];
  return url !== undefined ? [optionService('Redis', url, '--redis')] : [];
}

async function runTracker(args: string[], out: Output): Promise<number> {
  const { runTrackerCli, CliUsageError } = await import('@cascade/tracker');
  try {
    await runTrackerCli(args);
    return 0;
  } catch (err) {
    if (err instanceof CliUsageError) {
      out.error(err.message);
      return 2;
    }
    throw err;
  }
}

/**
 * Runs the command line, then ends the process with its exit code. Everything the command opened
 * is closed by then; exiting here rather than letting the loop drain matters: Node's natural exit
 * waits in its handle cleanup (Environment::CleanupHandles) for every request libuv still counts,
 * and once in a while one never completes. Caught there with gdb: a `cascade download` that had
 * printed "done" and closed its node spun in that loop until the test killed it 90 s later (about
 * one private-discovery download in 20 under load; one 1 GiB download in ~20 in issue 40).
 * process.exit skips that wait. Standard output and error are flushed first (pipes are
 * asynchronous on some systems).
 */
export async function runAndExit(argv: string[]): Promise<never> {
  const code = await main(argv);
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((r) => s.write('', r))));
  process.exit(code);
}

// Run when executed as `node src/main.ts` (npm start, the tests); bin/cascade.js calls runAndExit too.
if (import.meta.main) await runAndExit(process.argv.slice(2));
