/** The OTLP LogsService/Export method for @grpc/grpc-js, over the shared protobuf codec. */
import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  decodeExportRequest,
  decodeExportResponse,
  encodeExportRequest,
  encodeExportResponse,
  type ExportLogsServiceRequest,
  type ExportLogsServiceResponse,
} from '@tributary/otlp';

export const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** A Buffer view of the encoded bytes (no copy). */
function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

export const serializeExportRequest = (req: ExportLogsServiceRequest): Buffer => asBuffer(encodeExportRequest(req));
export const deserializeExportRequest = (buf: Buffer): ExportLogsServiceRequest => decodeExportRequest(buf);
export const serializeExportResponse = (res: ExportLogsServiceResponse): Buffer => asBuffer(encodeExportResponse(res));
export const deserializeExportResponse = (buf: Buffer): ExportLogsServiceResponse => decodeExportResponse(buf);

/** Service definition usable by both `makeGenericClientConstructor` and `Server.addService`. */
export const logsServiceDefinition = {
  Export: {
    path: LOGS_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: serializeExportRequest,
    requestDeserialize: deserializeExportRequest,
    responseSerialize: serializeExportResponse,
    responseDeserialize: deserializeExportResponse,
  },
} satisfies ServiceDefinition;
