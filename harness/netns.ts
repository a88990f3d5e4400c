/**
 * Guard for tests that open WebRTC connections: ICE gathers candidates on every interface, so such tests must run
 * in a network namespace that has nothing but loopback. They call this first and FAIL (never skip) elsewhere.
 */
import os from 'node:os';

/** Throws with how to run the test properly unless only loopback exists and ECSYNC_NETNS is '1'. */
export function requireLoopbackOnlyNetwork(): void {
  const outside: string[] = [];
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal) outside.push(`${name} ${address.address}`);
    }
  }
  const flagged = process.env.ECSYNC_NETNS === '1';
  if (outside.length === 0 && flagged) return;
  const why = [
    outside.length > 0 ? `non-loopback interfaces are present (${outside.join(', ')})` : '',
    flagged ? '' : 'ECSYNC_NETNS is not 1',
  ]
    .filter(Boolean)
    .join(' and ');
  throw new Error(
    `This test opens WebRTC connections and must run in a loopback-only network namespace, but ${why}.\n` +
      'Run the tests with `npm test`, which runs them inside such a namespace. By hand, as root:\n' +
      `  unshare -n sh -c 'ip link set lo up && exec "$@"' sh env ECSYNC_NETNS=1 npx vitest run <test file>`,
  );
}
