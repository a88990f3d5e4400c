/**
 * Node-only entry (`ecsync/discovery`): advertising room servers on the local network and browsing for them over
 * mDNS / DNS-SD (`_ecsync._udp`). Kept out of `index.ts` so a browser bundle never pulls in dgram or multicast-dns
 * (an optional peer, loaded when `advertise` or a browser starts).
 */
export { advertise, ANNOUNCE_INTERVAL_MS, MIN_ANSWER_INTERVAL_MS } from './discovery/advertiser.ts';
export type { Advertisement, AdvertiseOptions, AdvertiserStats } from './discovery/advertiser.ts';
export {
  browse,
  createServiceBrowser,
  DEFAULT_MAX_SERVICES,
  MAX_RECORDS_PER_PACKET,
} from './discovery/service-browser.ts';
export type {
  BrowseOnceOptions,
  BrowseOptions,
  ServiceBrowser,
  ServiceBrowserEvents,
  ServiceBrowserStats,
} from './discovery/service-browser.ts';
export { ECSYNC_SERVICE_TYPE, MAX_NAME_BYTES } from './discovery/discovery-records.ts';
export type { DiscoveredServer, MdnsRecord, RecordRefusal, ServiceInfo } from './discovery/discovery-records.ts';
export type { MdnsSocketOptions, MdnsSocketStats } from './discovery/mdns-socket.ts';
