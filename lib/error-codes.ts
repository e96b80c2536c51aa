/*
 * The codes, names and statuses that classify() (classify.ts) recognises, as
 * named sets, one entry per line: what a dependency means by "try again", and
 * the credentials failures that must never be retried.
 */

/** HTTP statuses a server uses to say "try again later", one per line. */
export const transientHttpStatus = new Set([
  429, // Too Many Requests (API priority and fairness), honour Retry-After
  502, // Bad Gateway (load balancer in front of the API server)
  503, // Service Unavailable (API server starting, etcd unavailable)
  504, // Gateway Timeout
])

/** Node and undici socket errors that a new connection can cure. */
export const transientNetworkCodes = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ESOCKETTIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

/** MongoDB driver error classes that mean the network or topology, not the request. */
export const transientMongoNames = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoPoolClearedError',
  'MongoTopologyClosedError',
  'MongoWriteConcernError',
])

/** MongoDB server codes for failover, shutdown and throttling. */
export const transientMongoCodes = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  16500, // Cosmos DB: request rate too large
])

/** MongoDB codes that mean the credentials: never retried (the fault-tolerance contract: code 18). */
export const fatalMongoAuthCodes = new Set([
  18, // AuthenticationFailed
  13, // Unauthorized
  8000, // Atlas: AtlasError (bad user or password)
])

export const transientAwsNames = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServiceError',
  'InternalServiceErrorException',
  'TimeoutError',
  'RequestTimeout',
])
