/** `api` extension (Tributary's own): native and Loki-compatible read API over the store, with JWT auth. */
import type { ExtensionFactory } from '../../component.js';
import { ApiExtension } from './api-extension.js';
import { apiConfigSchema, type ApiConfig } from './config.js';

export { ApiExtension, toHttpError, send } from './api-extension.js';
export { apiConfigSchema, type ApiConfig } from './config.js';
export { HttpError, type Route, type RouteContext, type RouteResult, type UpgradeRoute, type HttpMethod } from './routes.js';
export { StoreClient } from './store-client.js';

export const apiExtensionFactory: ExtensionFactory<ApiConfig> = {
  kind: 'extension',
  type: 'api',
  configSchema: apiConfigSchema,
  create(settings, config) {
    return new ApiExtension(settings, config);
  },
};
