/**
 * A room advertiser in its own process, for the discovery tests: `tsx harness/advertise-child.ts <json options>`
 * advertises, prints `ready` once announced, and on SIGTERM says goodbye and exits.
 */
import { advertise } from '../src/discovery.ts';
import type { AdvertiseOptions } from '../src/discovery.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as AdvertiseOptions;
const ad = await advertise(options);
console.log('ready');
process.on('SIGTERM', () => {
  ad.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
