/**
 * Tag that marks an entity clients may take ownership of (grab, carry, hand over). By default the server's
 * authority layer refuses every ownership request for an entity without it, whatever the policy says; the
 * `grabbable` option of `createServerAuthority` replaces this test with a predicate of your own.
 */
export const Grabbable = {};
