import type { V1ConfigMap, V1Deployment, V1Secret } from '@kubernetes/client-node'

import { demoCrd } from './cluster-setup.js'

// Object shapes that exercise what the sync must survive: dotted and $-prefixed map keys,
// label keys with prefixes, binary-looking Secret data, nested specs.

const b64 = (text: string) => Buffer.from(text).toString('base64')

const appNames = ['checkout', 'payments', 'search', 'catalog', 'auth', 'gateway', 'ledger']

export function labelsFor(i: number): Record<string, string> {
  const app = appNames[i % appNames.length] ?? 'app'
  return {
    'app.kubernetes.io/name': app,
    'app.kubernetes.io/instance': `${app}-${i % 3}`,
    'app.kubernetes.io/managed-by': 'kms-seed',
    tier: i % 2 === 0 ? 'frontend' : 'backend',
  }
}

export function configMap(name: string, i: number): V1ConfigMap {
  return {
    metadata: { name, labels: labelsFor(i), annotations: { 'kms.example.com/seed': String(i) } },
    data: {
      'nginx.conf': `worker_processes 1;\nevents { worker_connections ${1024 + i}; }\n`,
      'application.properties': `server.port=${8000 + (i % 100)}\nfeature.flag=${i % 2 === 0}\n`,
      LOG_LEVEL: i % 5 === 0 ? 'debug' : 'info',
    },
  }
}

export function secret(name: string, i: number): V1Secret {
  const labels = labelsFor(i)
  if (i % 2 === 0) {
    return {
      metadata: { name, labels },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': b64(`-----BEGIN CERTIFICATE-----\nseed-${i}\n-----END CERTIFICATE-----\n`),
        'tls.key': b64(`-----BEGIN PRIVATE KEY-----\nseed-${i}\n-----END PRIVATE KEY-----\n`),
      },
    }
  }
  const auths = { 'registry.example.com': { auth: b64(`robot:${i}-not-a-real-password`) } }
  return {
    metadata: { name, labels },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
  }
}

export function deployment(name: string, i: number): V1Deployment {
  const labels = labelsFor(i)
  const selector = { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'] ?? name }
  return {
    metadata: { name, labels },
    spec: {
      replicas: 1 + (i % 3),
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...labels, ...selector } },
        spec: {
          containers: [
            {
              name: 'app',
              image: `registry.example.com/${selector['app.kubernetes.io/name']}:1.${i % 10}.0`,
              ports: [{ containerPort: 8080, name: 'http' }],
              env: [{ name: 'SEED_INDEX', value: String(i) }],
              resources: { requests: { cpu: '50m', memory: '64Mi' } },
            },
          ],
        },
      },
    },
  }
}

export function widget(name: string, namespace: string, i: number): Record<string, unknown> {
  return {
    apiVersion: `${demoCrd.group}/${demoCrd.version}`,
    kind: demoCrd.kind,
    metadata: { name, namespace, labels: labelsFor(i) },
    spec: {
      size: i % 7,
      color: ['red', 'green', 'blue'][i % 3],
      config: { 'widget.yaml': `size: ${i % 7}\n`, $ref: '#/definitions/widget', 'a.b.c': i },
    },
  }
}
