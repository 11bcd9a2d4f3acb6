/**
 * Every metric the collector exposes, with its type, help text and labels: the one list the code
 * registers instruments from (so a name is spelled once) and the docs and dashboards can be generated from.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
}

function def<T extends MetricType>(name: string, type: T, help: string, labels: readonly string[]): MetricDef & { readonly type: T } {
  return { name, type, help, labels };
}

export const Metrics = {
  receiverAccepted: def('tributary_receiver_accepted_log_records_total', 'counter', 'Log records accepted by receivers and passed to the pipeline.', ['receiver', 'transport']),
  receiverRefused: def('tributary_receiver_refused_log_records_total', 'counter', 'Log records received but refused, by reason.', ['receiver', 'transport', 'reason']),
  receiverRefusedRequests: def('tributary_receiver_refused_requests_total', 'counter', 'Requests refused by receivers, by reason.', ['receiver', 'transport', 'reason']),
  receiverInvalidUtf8: def('tributary_receiver_invalid_utf8_strings_total', 'counter', 'Strings received with invalid UTF-8 (or, in OTLP/JSON, lone surrogates), kept with U+FFFD in their place.', ['receiver', 'transport']),
  receiverNatsRedelivered: def('tributary_receiver_nats_redelivered_messages_total', 'counter', 'JetStream messages delivered more than once (a gateway died or pushed back before acknowledging).', ['receiver', 'transport']),
  workerRestarts: def('tributary_worker_restarts_total', 'counter', 'Worker processes restarted after they died.', []),

  processorIncoming: def('tributary_processor_incoming_log_records_total', 'counter', 'Log records received by the processor.', ['processor']),
  processorOutgoing: def('tributary_processor_outgoing_log_records_total', 'counter', 'Log records passed on by the processor.', ['processor']),
  processorDropped: def('tributary_processor_dropped_log_records_total', 'counter', 'Log records dropped by the processor, by reason.', ['processor', 'reason']),
  processorRefused: def('tributary_processor_refused_log_records_total', 'counter', 'Log records refused by the processor (the batch was rejected or back-pressure applied).', ['processor']),
  batchSendSize: def('tributary_processor_batch_send_size', 'histogram', 'Log records per batch sent by the batch processor.', ['processor']),
  ratelimitStoreErrors: def('tributary_ratelimit_store_errors_total', 'counter', 'Rate-limit store calls that failed (Redis down or slow).', ['processor']),
  redactionMasked: def('tributary_redaction_masked_values_total', 'counter', 'Values (or matches within values) masked by the redaction processor, by reason.', ['processor', 'reason']),
  redactionRemoved: def('tributary_redaction_removed_attributes_total', 'counter', 'Attributes removed by the redaction processor (keys not allowed).', ['processor']),
  retentionTagged: def('tributary_retention_tagged_log_records_total', 'counter', 'Log records tagged by the retention processor, by class.', ['processor', 'class']),

  exporterEnqueued: def('tributary_exporter_enqueued_log_records_total', 'counter', 'Log records the exporter took (queued, or sent directly when the queue is off).', ['exporter']),
  exporterSent: def('tributary_exporter_sent_log_records_total', 'counter', 'Log records sent by the exporter.', ['exporter']),
  exporterSendFailed: def('tributary_exporter_send_failed_log_records_total', 'counter', 'Log records the exporter gave up on, by reason.', ['exporter', 'reason']),
  exporterEnqueueFailed: def('tributary_exporter_enqueue_failed_log_records_total', 'counter', 'Log records refused because the sending queue was full.', ['exporter']),
  exporterRetries: def('tributary_exporter_retries_total', 'counter', 'Send attempts retried after a failure.', ['exporter']),
  exporterLatency: def('tributary_exporter_latency_seconds', 'histogram', 'Seconds from receipt to successful export, per log record.', ['exporter']),
  exporterQueueSize: def('tributary_exporter_queue_size', 'gauge', 'Batches in the sending queue.', ['exporter']),
  exporterQueueCapacity: def('tributary_exporter_queue_capacity', 'gauge', 'Capacity of the sending queue in batches.', ['exporter']),
  exporterQueueRecords: def('tributary_exporter_queue_log_records', 'gauge', 'Log records in the sending queue.', ['exporter']),
  exporterInFlight: def('tributary_exporter_in_flight_log_records', 'gauge', 'Log records taken from the queue and being sent or retried.', ['exporter']),
  exporterDeadLettered: def('tributary_exporter_dead_lettered_log_records_total', 'counter', 'Log records written to the dead-letter file, by reason.', ['exporter', 'reason']),
  exporterDeadLetterFailed: def('tributary_exporter_dead_letter_failed_log_records_total', 'counter', 'Log records that could not be written to the dead-letter file (counted as dropped).', ['exporter']),
  exporterPartialRejected: def('tributary_exporter_partial_rejected_log_records_total', 'counter', 'Log records the destination refused in an OTLP partial success answer.', ['exporter']),
  exporterQueueBytes: def('tributary_exporter_queue_bytes', 'gauge', 'Unacknowledged bytes in the disk queue.', ['exporter']),
  exporterQueueCorrupt: def('tributary_exporter_queue_corrupt_records_total', 'counter', 'Damaged batches found in a disk queue (torn tail or bad checksum); their records are lost.', ['exporter']),
  exporterQueueLost: def('tributary_exporter_queue_lost_log_records_total', 'counter', 'Log records lost to damage in a disk queue (exact where intact frames follow; at least, for a damaged tail).', ['exporter']),
  exporterQueueRecovered: def('tributary_exporter_queue_recovered_log_records_total', 'counter', 'Log records found in a disk queue at start, left by a previous run.', ['exporter']),
  cloudwatchDroppedEvents: def('tributary_exporter_cloudwatch_dropped_log_events_total', 'counter', 'Log events not sent to CloudWatch Logs, by reason (too_old, too_new, empty, rejected_by_service).', ['exporter', 'reason']),
  cloudwatchTruncatedEvents: def('tributary_exporter_cloudwatch_truncated_log_events_total', 'counter', 'Log events truncated to the CloudWatch Logs 256 KiB event limit.', ['exporter']),

  alertsTransitions: def('tributary_alerts_transitions_total', 'counter', 'Alert state transitions, by rule and the state entered (pending, firing, resolved, inactive).', ['exporter', 'rule', 'state']),
  alertsFiring: def('tributary_alerts_firing', 'gauge', 'Alert groups firing now.', ['exporter']),
  alertsGroupsDropped: def('tributary_alerts_groups_dropped_total', 'counter', 'Alert groups not tracked because their rule reached max_groups.', ['exporter', 'rule']),
  alertsNotificationsSent: def('tributary_alerts_notifications_sent_total', 'counter', 'Alert notifications delivered, by notifier.', ['exporter', 'notifier']),
  alertsNotificationsFailed: def('tributary_alerts_notifications_failed_total', 'counter', 'Alert notifications given up on, by notifier and reason (permanent, retries_exhausted).', ['exporter', 'notifier', 'reason']),
  alertsNotificationRetries: def('tributary_alerts_notification_retries_total', 'counter', 'Alert notification attempts retried, by notifier.', ['exporter', 'notifier']),
  alertsNotificationsDeduplicated: def('tributary_alerts_notifications_deduplicated_total', 'counter', 'Alert notifications left to another instance that sent the same transition (Redis coordination).', ['exporter', 'notifier']),
  alertsNotificationSeconds: def('tributary_alerts_notification_seconds', 'histogram', 'Seconds from an alert transition to its notification being delivered.', ['exporter', 'notifier']),

  processCpuSeconds: def('process_cpu_seconds_total', 'gauge', 'User and system CPU time spent by the process, in seconds.', []),
  processResidentMemory: def('process_resident_memory_bytes', 'gauge', 'Resident set size of the process, in bytes.', []),
  processHeapUsed: def('process_heap_used_bytes', 'gauge', 'V8 heap in use, in bytes.', []),
  processStartTime: def('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch, in seconds.', []),
  eventLoopLag: def('nodejs_eventloop_lag_seconds', 'gauge', 'Mean event-loop delay since the previous scrape, in seconds.', []),
} as const;

export type MetricKey = keyof typeof Metrics;

/** Every metric, in the order above. */
export const METRIC_LIST: readonly MetricDef[] = Object.values(Metrics);

/** Metric names shared by components, so every receiver/processor/exporter reports the same series. */
export const MetricNames = {
  receiverAccepted: Metrics.receiverAccepted.name,
  receiverRefused: Metrics.receiverRefused.name,
  processorIncoming: Metrics.processorIncoming.name,
  processorOutgoing: Metrics.processorOutgoing.name,
  processorDropped: Metrics.processorDropped.name,
  processorRefused: Metrics.processorRefused.name,
  exporterSent: Metrics.exporterSent.name,
  exporterSendFailed: Metrics.exporterSendFailed.name,
  exporterEnqueueFailed: Metrics.exporterEnqueueFailed.name,
  exporterRetries: Metrics.exporterRetries.name,
  exporterQueueSize: Metrics.exporterQueueSize.name,
  exporterQueueCapacity: Metrics.exporterQueueCapacity.name,
  exporterQueueRecords: Metrics.exporterQueueRecords.name,
  exporterLatency: Metrics.exporterLatency.name,
} as const;
