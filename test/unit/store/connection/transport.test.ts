import { describe, expect, it } from 'vitest'
import { isLoopbackHost } from '../../../../lib/insecure-transport.js'
import {
  insecureMongoTransport,
  mongoUriShape,
} from '../../../../lib/store/connection/transport.js'

describe('insecureMongoTransport', () => {
  it.each([
    'mongodb+srv://u:p@cluster0.abcde.mongodb.net/?retryWrites=true',
    'mongodb://u:p@db-1.example.com:27017,db-2.example.com:27017/?tls=true&replicaSet=rs0',
    'mongodb://u:p@docdb.example.com:27017/?ssl=true&tlsCAFile=global-bundle.pem',
    'mongodb://u:p@db.example.com/?TLS=TRUE',
    'mongodb://u:p@127.0.0.1:27117/?authSource=admin',
    'mongodb://localhost:27017',
    'mongodb://u:p@[::1]:27017/',
    'mongodb://%2Ftmp%2Fmongodb-27017.sock/',
  ])('accepts %s', (uri) => {
    expect(insecureMongoTransport(uri)).toEqual([])
  })

  it.each([
    ['mongodb+srv://u:p@cluster0.abcde.mongodb.net/?tls=false', ['tls=false: plain text']],
    ['mongodb://u:p@127.0.0.1:27017/?ssl=false', ['tls=false: plain text']],
    [
      'mongodb://u:p@db.example.com/?tls=true&tlsInsecure=true',
      ['tlsInsecure=true: neither the certificate nor the host name is checked'],
    ],
    [
      'mongodb+srv://u:p@c.example.net/?tlsAllowInvalidCertificates=true&tlsAllowInvalidHostnames=true',
      [
        'tlsAllowInvalidCertificates=true: the certificate is not checked',
        'tlsAllowInvalidHostnames=true: the host name is not checked',
      ],
    ],
    [
      'mongodb://u:p@127.0.0.1:27017,db-2.example.com:27017/?replicaSet=rs0',
      ['mongodb:// without tls=true to db-2.example.com:27017: the driver connects in plain text'],
    ],
    [
      'mongodb://10.0.3.7',
      ['mongodb:// without tls=true to 10.0.3.7: the driver connects in plain text'],
    ],
  ])('refuses %s', (uri, problems) => {
    expect(insecureMongoTransport(uri)).toEqual(problems)
  })

  it('never returns the credentials of the connection string', () => {
    const uri = 'mongodb://admin:s3cr%40t-pass@db.example.com:27017/?tls=false'

    expect(mongoUriShape(uri).hosts).toEqual(['db.example.com:27017'])
    expect(insecureMongoTransport(uri).join(' ')).not.toMatch(/admin|s3cr/)
  })
})

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['[::1]', true],
    ['/tmp/mongodb-27017.sock', true],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['10.0.0.1', false],
    ['db.example.com', false],
  ])('%s: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback)
  })
})
