/** One outgoing request of `http_request`, already checked against the allow-list and headers. */
export type HttpTransportRequest = Readonly<{
  url: URL;
  method: string;
  headers: Readonly<Record<string, string>>;
  body?: string;
  signal: AbortSignal;
  /** The response body is read up to this many bytes, then the connection is closed. */
  maxResponseBytes: number;
}>;

export type HttpTransportResponse = Readonly<{ status: number; body: string; truncated: boolean }>;

/**
 * The network port of `http_request`. The adapter owns what only the network layer can check:
 * where a host name resolves (refusing private, loopback, link-local and metadata addresses unless
 * the operator allows them), connecting to exactly the address it checked, never following
 * redirects, and reading the body streamed with a size cap.
 */
export type HttpTransport = (request: HttpTransportRequest) => Promise<HttpTransportResponse>;
