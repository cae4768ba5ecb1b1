import { execFileSync } from 'node:child_process';

/** Builds dist/ (uplift and skiff) once, so e2e tests run the real CLI and product as an operator does. */
export default function setup(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
