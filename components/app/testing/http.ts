/** Test-only HTTP client: plain node:http so tests can pick the source address. */
import * as http from "http";

/** A finished HTTP exchange. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Options for one request. */
export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Source address, e.g. 127.0.0.2 to look like an untrusted peer. */
  localAddress?: string;
  jar?: CookieJar;
}

/** Minimal cookie jar: name=value pairs, no domain/path logic (one test server). */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  header(): string | undefined {
    return this.cookies.size === 0 ? undefined : [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  store(setCookie: string[] | undefined): void {
    for (const c of setCookie ?? []) {
      const [pair] = c.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (pair !== undefined && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
}

/** Sends one request and buffers the answer. */
export function request(url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const cookie = opts.jar?.header();
    if (cookie !== undefined) headers["Cookie"] = cookie;
    const req = http.request(url, { method: opts.method ?? "GET", headers, localAddress: opts.localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        opts.jar?.store(res.headers["set-cookie"]);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** GET returning parsed JSON (fails loudly with the body if it is not JSON). */
export async function getJson<T>(url: string, opts: HttpRequestOptions = {}): Promise<{ status: number; json: T; res: HttpResponse }> {
  const res = await request(url, opts);
  try {
    return { status: res.status, json: JSON.parse(res.body) as T, res };
  } catch {
    throw new Error(`not JSON (${res.status}) from ${url}: ${res.body.slice(0, 500)}`);
  }
}

/** Builds a multipart/form-data body with one file field. */
export function multipartFile(field: string, filename: string, content: Buffer | string): { body: Buffer; contentType: string } {
  const boundary = `----dnsrrha${Date.now().toString(16)}`;
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    Buffer.isBuffer(content) ? content : Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
