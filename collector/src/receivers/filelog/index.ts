/** The `filelog` receiver factory: tails files like upstream's filelogreceiver. */
import type { ReceiverFactory } from '../../component.js';
import { filelogConfigSchema, type FilelogConfig } from './config.js';
import { FilelogReceiver } from './receiver.js';

export const filelogReceiverFactory: ReceiverFactory<FilelogConfig> = {
  kind: 'receiver',
  type: 'filelog',
  configSchema: filelogConfigSchema,
  create(settings, config, next) {
    return new FilelogReceiver(settings, config, next);
  },
};

export { FilelogReceiver } from './receiver.js';
export type { FilelogConfig } from './config.js';
