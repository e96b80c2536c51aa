import type { HttpRequest, HttpResponse, HttpTransport } from '../../../../lib/kube/http.js'

export interface FakeAnswer {
  readonly status?: number
  readonly headers?: Record<string, string>
  /** The body, in the chunks it arrives in. */
  readonly chunks?: readonly string[]
  readonly json?: unknown
  /** Never answer (until the request is aborted). */
  readonly hang?: boolean
}

/** A transport answering from a function of the request; records every request. */
export function fakeTransport(answer: (request: HttpRequest) => FakeAnswer): HttpTransport & {
  requests: HttpRequest[]
} {
  const requests: HttpRequest[] = []
  const transport = async (request: HttpRequest): Promise<HttpResponse> => {
    requests.push(request)
    const a = answer(request)
    if (a.hang) {
      await new Promise((_, reject) => {
        request.signal.addEventListener('abort', () =>
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        )
      })
    }
    const chunks = a.json !== undefined ? [JSON.stringify(a.json)] : (a.chunks ?? [])
    return { status: a.status ?? 200, headers: a.headers ?? {}, body: toStream(chunks) }
  }
  return Object.assign(transport, { requests })
}

async function* toStream(chunks: readonly string[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    await Promise.resolve()
    yield Buffer.from(chunk)
  }
}
