import { execFileSync } from 'node:child_process';

/** Builds dist/ once so e2e tests run the real CLI the way an operator does. */
export default function setup(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
