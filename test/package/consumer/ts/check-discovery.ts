// A strict TypeScript consumer of `ecsync/discovery` (Node only): LAN advertisement and browsing.
import { advertise, browse, createServiceBrowser, ECSYNC_SERVICE_TYPE } from 'ecsync/discovery';
import type { Advertisement, AdvertiseOptions, DiscoveredServer, ServiceBrowser } from 'ecsync/discovery';

const options: AdvertiseOptions = { name: 'room', port: 8443, transports: ['ws'], interface: '127.0.0.1' };
const ad: Promise<Advertisement> = advertise(options);
const found: Promise<DiscoveredServer[]> = browse({ timeoutMs: 100, interface: '127.0.0.1' });
const browser: Promise<ServiceBrowser> = createServiceBrowser({ maxServices: 4 });
const type: string = ECSYNC_SERVICE_TYPE;

export { ad, found, browser, type };
