import type { Config } from '../config/schema.js';
import type { OriginAddresses } from '../origin.js';
import { loadNative } from '../addon/native-module.js';
import { addonCheck, databaseCheck, dataDirCheck, diskSpaceCheck, listenerCheck, type DiskSpace } from './readiness-checks.js';
import type { ReadinessCheck } from './readiness.js';

export interface OriginReadinessParts {
  config: Config;
  /** Filled in by Origin.start() as each listener binds. */
  addresses: OriginAddresses;
  database: () => { ping(): Promise<void> } | undefined;
  disk: DiskSpace;
}

/** Every enabled listener, named as in OriginAddresses, with the host it binds. */
function enabledListeners(c: Config): { name: keyof OriginAddresses; host: string }[] {
  const out: { name: keyof OriginAddresses; host: string }[] = [];
  if (c.rtmp.enabled) out.push({ name: 'rtmp', host: c.rtmp.host });
  if (c.rtmps.enabled) out.push({ name: 'rtmps', host: c.rtmps.host });
  if (c.http.enabled) out.push({ name: 'http', host: c.http.host });
  if (c.http2.enabled) {
    out.push({ name: 'http2', host: c.http2.host });
    if (c.http2.cleartextPort !== null) out.push({ name: 'h2c', host: c.http2.host });
  }
  if (c.api.enabled) out.push({ name: 'api', host: c.api.host });
  return out;
}

/** What an origin must have to take traffic: its listeners, database, dataDir (writable, with room) and addon. */
export function originReadinessChecks(p: OriginReadinessParts): ReadinessCheck[] {
  return [
    ...enabledListeners(p.config).map(({ name, host }) => listenerCheck(name, host, () => p.addresses[name])),
    databaseCheck(p.database),
    dataDirCheck(p.config.dataDir),
    diskSpaceCheck(p.disk),
    addonCheck(() => loadNative()),
  ];
}
