/*
 * The bench's ConfigMaps: about 2 KB each as served, with the labels and
 * annotations real workloads carry, spread over NAMESPACES namespaces.
 */

export const NAMESPACE_PREFIX = 'kmsbench'
export const NAMESPACES = 20
export const BENCH_LABEL = 'kms-bench.example.com/set'
export const BENCH_SELECTOR = `${BENCH_LABEL}=configmaps`

const apps = ['checkout', 'payments', 'search', 'catalog', 'auth', 'gateway', 'ledger', 'orders']
const teams = ['platform', 'commerce', 'identity', 'data']

export function namespaceOf(i: number): string {
  return `${NAMESPACE_PREFIX}-${String(i % NAMESPACES).padStart(2, '0')}`
}

export const benchNamespaces = (): string[] =>
  Array.from({ length: NAMESPACES }, (_, i) => namespaceOf(i))

export function labelsFor(i: number): Record<string, string> {
  const app = apps[i % apps.length]!
  return {
    [BENCH_LABEL]: 'configmaps',
    'app.kubernetes.io/name': app,
    'app.kubernetes.io/instance': `${app}-${i % 5}`,
    'app.kubernetes.io/version': `1.${i % 12}.${i % 7}`,
    'app.kubernetes.io/component': i % 3 === 0 ? 'api' : i % 3 === 1 ? 'worker' : 'web',
    'app.kubernetes.io/part-of': 'shop',
    'app.kubernetes.io/managed-by': 'helm',
    'helm.sh/chart': `${app}-2.${i % 9}.0`,
    team: teams[i % teams.length]!,
    environment: i % 4 === 0 ? 'staging' : 'production',
  }
}

function applicationYaml(i: number, revision: number): string {
  const lines = [
    'server:',
    `  port: ${8000 + (i % 100)}`,
    '  shutdown: graceful',
    '  compression:',
    '    enabled: true',
    '    mime-types: application/json,application/xml,text/html,text/plain',
    'spring:',
    '  datasource:',
    `    url: jdbc:postgresql://db-${i % 10}.shop.svc.cluster.local:5432/shop`,
    '    hikari:',
    `      maximum-pool-size: ${10 + (i % 20)}`,
    '      connection-timeout: 30000',
    '  cache:',
    '    type: redis',
    `    redis.time-to-live: ${600 + revision}`,
    'management:',
    '  endpoints.web.exposure.include: health,info,prometheus',
    '  metrics.tags.application: ${spring.application.name}',
    'feature-flags:',
    `  new-checkout: ${i % 2 === 0}`,
    `  recommendations: ${i % 3 === 0}`,
    `  revision: ${revision}`,
  ]
  return `${lines.join('\n')}\n`
}

export function benchConfigMap(name: string, i: number, revision = 0): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      labels: labelsFor(i),
      annotations: {
        'meta.helm.sh/release-name': apps[i % apps.length]!,
        'meta.helm.sh/release-namespace': namespaceOf(i),
        'kms-bench.example.com/index': String(i),
      },
    },
    data: {
      'application.yaml': applicationYaml(i, revision),
      'logback.xml': `<configuration><root level="${i % 5 === 0 ? 'DEBUG' : 'INFO'}"><appender-ref ref="JSON"/></root></configuration>\n`,
      'nginx.conf': `worker_processes 2;\nevents { worker_connections ${1024 + (i % 512)}; }\nhttp { keepalive_timeout 65; gzip on; }\n`,
      LOG_FORMAT: 'json',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4317',
    },
  }
}
