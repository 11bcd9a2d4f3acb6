/**
 * Upstream (otelcol / otelcol-contrib) component types and keys that Tributary does not have, with the
 * Tributary component or key that does the job where one exists. A config naming one gets one line:
 * the path, "not supported by Tributary", and the alternative.
 */
import type { ComponentKind } from '../component.js';

type Kind = ComponentKind | 'connector';

/** type → the alternative ('' when there is none). */
const COMPONENTS: Record<Kind, Record<string, string>> = {
  receiver: {
    filelog: '', journald: '', syslog: '', fluentforward: '', kafka: '', tcplog: '', udplog: '', windowseventlog: '',
    k8s_events: '', k8sobjects: '', hostmetrics: '', prometheus: '', jaeger: '', zipkin: '', kubeletstats: '',
    docker_stats: '', httpcheck: '', sqlquery: '', awsfirehose: '', azureeventhub: '', googlecloudpubsub: '',
    splunk_hec: '', loki: 'the otlp receiver (send OTLP instead of Loki push)', opencensus: '', nop: '',
    receiver_creator: '', statsd: '', carbon: '', influxdb: '', signalfx: '', datadog: '', webhookevent: '',
    otlpjsonfile: '', filestats: '', otelarrow: 'the otlp receiver', pulsar: '', rabbitmq: '', redis: '', solace: '',
  },
  processor: {
    transform: 'the attributes, resource and filter processors (OTTL conditions)',
    tail_sampling: 'the probabilistic_sampler processor',
    routing: 'separate pipelines with the filter processor',
    groupbyattrs: '', groupbytrace: '', k8sattributes: 'the resource processor', resourcedetection: 'the resource processor',
    metricstransform: '', cumulativetodelta: '', deltatocumulative: '', spanmetrics: '', span: '', logdedup: 'the ratelimit processor',
    logstransform: 'the attributes processor', schema: '', sumologic: '', geoip: '', interval: '', remotetap: '',
    batch_v2: 'the batch processor', isolationforest: '', unroll: '', coralogix: '', metricsgeneration: '',
    experimental_metricsgeneration: '', cumulativetodelta_v2: '', lookup: '',
  },
  exporter: {
    logging: 'the debug exporter', kafka: '', prometheus: 'the metrics extension (for the collector\'s own metrics)',
    prometheusremotewrite: '', loadbalancing: '', awss3: 'the file exporter', awsemf: '', awsxray: '', awskinesis: '',
    opensearch: 'the elasticsearch exporter', zipkin: '', sentry: '', syslog: '', newrelic: '', dynatrace: '',
    honeycombmarker: '', sumologic: '', coralogix: '', logzio: '', mezmo: '', signalfx: '', influxdb: '', kinetica: '',
    tencentcloud_logservice: '', alibabacloud_logservice: '', azuredataexplorer: '', googlecloudpubsub: '',
    googlemanagedprometheus: '', otelarrow: 'the otlp exporter', pulsar: '', rabbitmq: '', carbon: '', nop: '',
    file_storage: '', splunk_hec_v2: 'the splunk_hec exporter', doris: '', tinybird: '', bmchelix: '',
  },
  extension: {
    pprof: '', zpages: 'the health_check and metrics extensions', oauth2client: '', oidc: '', sigv4auth: '',
    headers_setter_v2: 'headers_setter', asapclient: '', memory_ballast: 'the memory_limiter processor',
    k8s_observer: '', docker_observer: '', host_observer: '', jaeger_remote_sampling: '', opamp: '',
    healthcheckv2: 'the health_check extension', db_storage: 'the file_storage extension', redis_storage: '',
    ack: '', awsproxy: '', basicauth_v2: 'basicauth', cgroupruntime: '', googleclientauth: '', azureauth: '',
  },
  connector: {
    count: '', spanmetrics: '', servicegraph: '', forward: 'list the receivers in each pipeline instead', routing: 'separate pipelines with the filter processor',
    roundrobin: '', exceptions: '', failover: '', signaltometrics: '', sum: '', otlpjson: '', grafanacloud: '',
    datadog: '',
  },
};

/** Keys of components Tributary has whose upstream meaning it does not implement: `kind/type` → key → alternative. */
const KEYS: Record<string, Record<string, string>> = {
  'exporter/debug': { use_internal_logger: '' },
  'extension/health_check': { response_body: '', tls: '' },
  'exporter/file': { group_by: '', create_directory: '', directory_permissions: '' },
  'processor/memory_limiter': { min_gc_interval_when_soft_limited: '', min_gc_interval_when_hard_limited: '' },
};

/** `not supported by Tributary[; use …]` for an upstream component type Tributary lacks, else undefined. */
export function unsupportedComponent(kind: Kind, type: string): string | undefined {
  const alt = COMPONENTS[kind][type];
  if (alt === undefined) return undefined;
  return alt ? `not supported by Tributary; use ${alt} instead` : 'not supported by Tributary';
}

/** The same for a top-level key of a component's config. */
export function unsupportedKey(kind: ComponentKind, type: string, key: string): string | undefined {
  const alt = KEYS[`${kind}/${type}`]?.[key];
  if (alt === undefined) return undefined;
  return alt ? `not supported by Tributary; use ${alt} instead` : 'not supported by Tributary';
}
