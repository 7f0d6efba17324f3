// Starts `alab serve` on 127.0.0.1 with an ephemeral port on the serve tests'
// tiny model (written by serve_make_model), for the node serve tests.
// Env: ALAB_BIN (the alab binary), SERVE_MAKE_MODEL (the model writer),
// ALAB_TEST_TMP (scratch root).
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, readFileSync } from 'node:fs';
import path from 'node:path';

// The model directory is ROOT/NAME/MODEL (its base name is the served model id);
// extra arguments go to serve_make_model (e.g. ['eot']).
export function makeModel(name, extra = [], model = 'tiny') {
  const root = path.join(process.env.ALAB_TEST_TMP || '/tmp/alab-test', name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const dir = path.join(root, model);
  execFileSync(process.env.SERVE_MAKE_MODEL, [dir, ...extra], { stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

// Resolves to { url, port, pid, stop() } once the server prints its URL.
export function startServer(modelDir, extra = [], env = process.env) {
  const proc = spawn(process.env.ALAB_BIN, ['serve', '--model', modelDir, '--port', '0', ...extra],
                     { stdio: ['ignore', 'pipe', 'inherit'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('alab serve did not start: ' + out)), 30000);
    proc.on('exit', (code) => reject(new Error(`alab serve exited with ${code}: ${out}`)));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
      if (m) {
        clearTimeout(timer);
        proc.removeAllListeners('exit');
        resolve({
          url: m[1], port: +m[2], pid: proc.pid, proc,
          alive: () => proc.exitCode === null && proc.signalCode === null,
          stop: () => new Promise((res) => { proc.on('exit', (code, sig) => res({ code, sig })); proc.kill('SIGTERM'); }),
        });
      }
    });
  });
}

export function rssKiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? +m[1] : NaN;
}

let failures = 0;
export function check(cond, what) {
  if (cond) return;
  failures++;
  console.error('FAIL: ' + what);
}
export function done() {
  console.log(failures ? `${failures} failed` : 'all passed');
  process.exit(failures ? 1 : 0);
}
