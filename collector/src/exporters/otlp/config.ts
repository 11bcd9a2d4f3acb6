/** Config of the `otlp` (gRPC) exporter: upstream otlpexporter keys and defaults (configgrpc client keys). */
import { z } from 'zod';
import { grpcClientShape } from '../../config/grpc-client.js';
import { exporterHelperShape } from '../../pipeline/exporter-helper-config.js';

export { parseGrpcEndpoint, type GrpcTarget } from '../../config/grpc-client.js';

export const otlpExporterConfigSchema = z.strictObject({
  ...grpcClientShape,
  ...exporterHelperShape,
});

export type OtlpExporterConfig = z.output<typeof otlpExporterConfigSchema>;
