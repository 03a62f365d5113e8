/** The REST control API (/v1): see docs/api.md. */
export { createApiServer, type ApiServer, type ApiServerOptions } from './server.js';
export { ensureAdminToken, type EnsureAdminTokenOptions } from './admin-token.js';
export { OPENAPI_PATH } from './openapi.js';
