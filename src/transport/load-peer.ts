/**
 * Loads an optional peer dependency (ws, @geckos.io/server) when the transport that needs it is created, so that
 * importing ecsync never requires a package the application does not use.
 */
import { NetError } from '../errors.ts';

/** True when `error` says that `name` itself (not one of its own imports) could not be found. */
function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`"${name}"`));
}

/**
 * Runs `load` (a dynamic `import()` of `name`); a missing package becomes a `Usage` NetError whose fix names it.
 * @example
 * const ws = await loadPeer('ws', 'createWebSocketServerTransport', () => import('ws'));
 */
export async function loadPeer<T>(name: string, usedBy: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new NetError('Usage', `${usedBy} needs the optional peer dependency ${name}, which is not installed`, {
      fix: `npm install ${name}`,
    });
  }
}
