// The one test command (README, .ci/run): typecheck, then every suite in order.
// A suite that is absent is skipped; a suite that fails stops the run with its exit code.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts;
const suites = ['typecheck', 'test:node', 'test:renderer', 'test:e2e'].filter((s) => s in scripts);

for (const suite of suites) {
  console.log(`\n=== npm run ${suite}`);
  const started = Date.now();
  const result = spawnSync('npm', ['run', '--silent', suite], { stdio: 'inherit' });
  console.log(`=== ${suite}: exit ${result.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}
