// An example Tributary processor plugin: stamps every record with a fixed attribute.
// Load it from a config:   plugins: [./examples/plugins/stamp-processor.mjs]
// A plugin exports component factories through the same contract as the built-ins
// (see docs/writing-a-component.md): kind, type, a config schema with safeParse, and create().
import { z } from 'zod';

const configSchema = z.strictObject({
  key: z.string().min(1).default('stamp'),
  value: z.string().default('stamped'),
});

export default [
  {
    kind: 'processor',
    type: 'stamp',
    configSchema,
    create(settings, config, next) {
      // Built once: every record gets its own KeyValue, sharing the immutable value object.
      const value = { stringValue: config.value };
      return {
        mutatesData: true,
        async start() {},
        async shutdown() {},
        consume(batch) {
          for (const rl of batch.resourceLogs) {
            for (const sl of rl.scopeLogs) {
              for (const r of sl.logRecords) r.attributes.push({ key: config.key, value });
            }
          }
          return next.consume(batch);
        },
      };
    },
  },
];
