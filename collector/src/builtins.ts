/** The built-in components. Adding one: create its folder and add one line here. */
import { ComponentRegistry } from './registry.js';
import { otlpReceiverFactory } from './receivers/otlp/index.js';
import { filelogReceiverFactory } from './receivers/filelog/index.js';
import { syslogReceiverFactory } from './receivers/syslog/index.js';
import { tcplogReceiverFactory } from './receivers/tcplog/index.js';
import { udplogReceiverFactory } from './receivers/udplog/index.js';
import { fluentforwardReceiverFactory } from './receivers/fluentforward/index.js';
import { awsCloudWatchReceiverFactory } from './receivers/awscloudwatch/index.js';
import { googleCloudLoggingReceiverFactory } from './receivers/googlecloudlogging/index.js';
import { azureLogAnalyticsReceiverFactory } from './receivers/azureloganalytics/index.js';
import { sourcesReceiverFactory } from './receivers/sources/index.js';
import { natsReceiverFactory } from './receivers/nats/index.js';
import { batchProcessorFactory } from './processors/batch/index.js';
import { memoryLimiterProcessorFactory } from './processors/memory_limiter/index.js';
import { probabilisticSamplerProcessorFactory } from './processors/probabilistic_sampler/index.js';
import { rateLimitProcessorFactory } from './processors/ratelimit/index.js';
import { redactionProcessorFactory } from './processors/redaction/index.js';
import { attributesProcessorFactory } from './processors/attributes/index.js';
import { resourceProcessorFactory } from './processors/resource/index.js';
import { filterProcessorFactory } from './processors/filter/index.js';
import { retentionProcessorFactory } from './processors/retention/index.js';
import { debugExporterFactory } from './exporters/debug/index.js';
import { fileExporterFactory } from './exporters/file/index.js';
import { otlpExporterFactory } from './exporters/otlp/index.js';
import { otlpHttpExporterFactory } from './exporters/otlphttp/index.js';
import { datadogExporterFactory } from './exporters/datadog/index.js';
import { splunkHecExporterFactory } from './exporters/splunk_hec/index.js';
import { clickHouseExporterFactory } from './exporters/clickhouse/index.js';
import { azureMonitorExporterFactory } from './exporters/azuremonitor/index.js';
import { awsCloudWatchLogsExporterFactory } from './exporters/awscloudwatchlogs/index.js';
import { googleCloudExporterFactory } from './exporters/googlecloud/index.js';
import { elasticsearchExporterFactory } from './exporters/elasticsearch/index.js';
import { lokiExporterFactory } from './exporters/loki/index.js';
import { storeExporterFactory } from './exporters/store/index.js';
import { natsExporterFactory } from './exporters/nats/index.js';
import { loadBalancingExporterFactory } from './exporters/loadbalancing/index.js';
import { liveTailExporterFactory } from './exporters/live_tail/index.js';
import { alertsExporterFactory } from './exporters/alerts/index.js';
import { healthCheckExtensionFactory } from './extensions/health_check/index.js';
import { metricsExtensionFactory } from './extensions/metrics/index.js';
import { fileStorageExtensionFactory } from './extensions/file_storage/index.js';
import { apiExtensionFactory } from './extensions/api/index.js';
import { bearerTokenAuthExtensionFactory } from './extensions/bearertokenauth/index.js';
import { basicAuthExtensionFactory } from './extensions/basicauth/index.js';
import { headersSetterExtensionFactory } from './extensions/headers_setter/index.js';

export function createDefaultRegistry(): ComponentRegistry {
  return new ComponentRegistry()
    .register(otlpReceiverFactory)
    .register(filelogReceiverFactory)
    .register(syslogReceiverFactory)
    .register(tcplogReceiverFactory)
    .register(udplogReceiverFactory)
    .register(fluentforwardReceiverFactory)
    .register(awsCloudWatchReceiverFactory)
    .register(googleCloudLoggingReceiverFactory)
    .register(azureLogAnalyticsReceiverFactory)
    .register(sourcesReceiverFactory)
    .register(natsReceiverFactory)
    .register(batchProcessorFactory)
    .register(memoryLimiterProcessorFactory)
    .register(probabilisticSamplerProcessorFactory)
    .register(rateLimitProcessorFactory)
    .register(redactionProcessorFactory)
    .register(attributesProcessorFactory)
    .register(resourceProcessorFactory)
    .register(filterProcessorFactory)
    .register(retentionProcessorFactory)
    .register(debugExporterFactory)
    .register(fileExporterFactory)
    .register(otlpExporterFactory)
    .register(otlpHttpExporterFactory)
    .register(datadogExporterFactory)
    .register(splunkHecExporterFactory)
    .register(clickHouseExporterFactory)
    .register(azureMonitorExporterFactory)
    .register(awsCloudWatchLogsExporterFactory)
    .register(googleCloudExporterFactory)
    .register(elasticsearchExporterFactory)
    .register(lokiExporterFactory)
    .register(storeExporterFactory)
    .register(natsExporterFactory)
    .register(loadBalancingExporterFactory)
    .register(liveTailExporterFactory)
    .register(alertsExporterFactory)
    .register(healthCheckExtensionFactory)
    .register(metricsExtensionFactory)
    .register(fileStorageExtensionFactory)
    .register(apiExtensionFactory)
    .register(bearerTokenAuthExtensionFactory)
    .register(basicAuthExtensionFactory)
    .register(headersSetterExtensionFactory)
    // Upstream renamed the OTLP exporters; both spellings are accepted there and here.
    .alias('exporter', 'otlp_grpc', 'otlp')
    .alias('exporter', 'otlp_http', 'otlphttp');
}
