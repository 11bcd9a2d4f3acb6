/**
 * The record model shared by the collector and the instrumentation: the OTLP logs tree
 * `ExportLogsServiceRequest → ResourceLogs → ScopeLogs → LogRecord`, exactly as protobufjs decodes it,
 * so a decoded request flows through the pipeline without being copied.
 *
 * Representations (used everywhere, by both codecs and every component):
 * - **Timestamps** (`timeUnixNano`, `observedTimeUnixNano`): `Long` (unsigned 64-bit, from the `long`
 *   package that protobufjs uses), nanoseconds since the Unix epoch. 0 means "unset". Convert with the
 *   helpers in `time.ts` (`nanosToDecimal`, `nanosToMillis`, `nanosFromMillis`, …), never with `Number()`
 *   on the whole value: a nanosecond epoch does not fit in a double exactly.
 * - **Trace / span IDs** (`traceId`, `spanId`): `Uint8Array` of 16 / 8 bytes (a view into the received
 *   buffer when decoded from protobuf). Length 0 means "unset"; an all-zero ID is treated as unset by
 *   exporters. Convert with `ids.ts` (`idToHex`, `idFromHex`).
 * - **int64 attribute values** (`AnyValue.intValue`): `Long` (signed) or a JS `number` when built in code.
 * - **Enums** (`severityNumber`): plain numbers.
 *
 * Fields that protobufjs fills from prototype defaults (scalars, repeated fields) are typed as present;
 * message fields that may be absent are optional.
 */
import type Long from 'long';

export type { Long };

export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Long | number | null;
  doubleValue?: number | null;
  arrayValue?: ArrayValue | null;
  kvlistValue?: KeyValueList | null;
  bytesValue?: Uint8Array | null;
}

export interface ArrayValue {
  values: AnyValue[];
}

export interface KeyValueList {
  values: KeyValue[];
}

export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface LogRecord {
  timeUnixNano: Long;
  observedTimeUnixNano: Long;
  severityNumber: number;
  severityText: string;
  body?: AnyValue | null;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}

export interface ScopeLogs {
  scope?: InstrumentationScope | null;
  logRecords: LogRecord[];
  schemaUrl: string;
}

export interface ResourceLogs {
  resource?: Resource | null;
  scopeLogs: ScopeLogs[];
  schemaUrl: string;
}

export interface ExportLogsServiceRequest {
  resourceLogs: ResourceLogs[];
}

export interface ExportLogsPartialSuccess {
  rejectedLogRecords: Long | number;
  errorMessage: string;
}

export interface ExportLogsServiceResponse {
  partialSuccess?: ExportLogsPartialSuccess | null;
}

/** OTLP severity numbers (SeverityNumber enum). */
export const SeverityNumber = {
  UNSPECIFIED: 0,
  TRACE: 1, TRACE2: 2, TRACE3: 3, TRACE4: 4,
  DEBUG: 5, DEBUG2: 6, DEBUG3: 7, DEBUG4: 8,
  INFO: 9, INFO2: 10, INFO3: 11, INFO4: 12,
  WARN: 13, WARN2: 14, WARN3: 15, WARN4: 16,
  ERROR: 17, ERROR2: 18, ERROR3: 19, ERROR4: 20,
  FATAL: 21, FATAL2: 22, FATAL3: 23, FATAL4: 24,
} as const;

const SEVERITY_NAMES: readonly string[] = Object.keys(SeverityNumber);

/** `SEVERITY_NUMBER_WARN` style name of a severity number, or undefined when out of range. */
export function severityNumberName(n: number): string | undefined {
  const short = SEVERITY_NAMES[n];
  return short === undefined ? undefined : `SEVERITY_NUMBER_${short}`;
}

/** Number of log records in a list of ResourceLogs. */
export function countLogRecords(resourceLogs: readonly ResourceLogs[]): number {
  let n = 0;
  for (let i = 0; i < resourceLogs.length; i++) {
    const sl = resourceLogs[i]!.scopeLogs;
    for (let j = 0; j < sl.length; j++) n += sl[j]!.logRecords.length;
  }
  return n;
}
