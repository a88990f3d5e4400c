/**
 * Serves the WebXR input profiles (controller descriptions and glTF models) from the installed
 * `@webxr-input-profiles/assets` package at `/input-profiles/`, so three's XRControllerModelFactory loads them from
 * the room's own origin instead of a CDN (the room works offline and on a LAN without internet).
 */
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, normalize, sep } from 'node:path';
import { INPUT_PROFILES_PATH } from './input-profiles-path.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.glb': 'model/gltf-binary',
  '.png': 'image/png',
};

/** The package's profiles directory. */
function profilesRoot(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@webxr-input-profiles/assets/package.json')), 'dist', 'profiles');
}

/** Returns a request handler that answers `/input-profiles/...` (and leaves every other path alone: false). */
export function createInputProfilesRoute(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const root = profilesRoot();
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith(`${INPUT_PROFILES_PATH}/`)) return false;
    const relative = decodeURIComponent(url.slice(INPUT_PROFILES_PATH.length + 1).split('?')[0]);
    const file = normalize(join(root, relative));
    const type = CONTENT_TYPES[file.slice(file.lastIndexOf('.'))];
    let size = -1;
    try {
      if (file.startsWith(root + sep) && type && (req.method === 'GET' || req.method === 'HEAD'))
        size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch {
      size = -1;
    }
    if (size < 0) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return true;
    }
    res.writeHead(200, { 'content-type': type, 'content-length': size, 'cache-control': 'max-age=3600' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  };
}
