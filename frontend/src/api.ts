// The backend's HTTP API. Answers are parsed so that integers above 2^53 survive (EIP-712
// messages carry uint64/uint256 values that JSON.parse would round, and a wallet would then sign
// a different message); safe integers stay plain numbers.
import { isInteger, isSafeNumber, parse } from "lossless-json";

export type Json = Record<string, any>;

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public details: Json = {}) {
    super(message);
  }
}

export function parseJson(text: string): any {
  return parse(text, null, (value) => (isInteger(value) && !isSafeNumber(value) ? BigInt(value) : Number(value)));
}

const TOKEN_KEY = "copytrack.session";

export interface Session {
  address: string;
  token: string;
  expires_at: string;
}

export function storedSession(): Session | null {
  const raw = localStorage.getItem(TOKEN_KEY);
  if (!raw) return null;
  const session = JSON.parse(raw) as Session;
  return new Date(session.expires_at) > new Date() ? session : null;
}

export function storeSession(session: Session | null): void {
  if (session) localStorage.setItem(TOKEN_KEY, JSON.stringify(session));
  else localStorage.removeItem(TOKEN_KEY);
}

export async function api(path: string, init: RequestInit = {}): Promise<any> {
  const headers = new Headers(init.headers);
  const session = storedSession();
  if (session) headers.set("Authorization", `Bearer ${session.token}`);
  if (init.body && typeof init.body === "string") headers.set("Content-Type", "application/json");
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers });
  } catch {
    throw new ApiError(0, "offline", "Cannot reach the Copytrack server. Check your connection and try again.");
  }
  const text = await response.text();
  const body = text ? parseJson(text) : {};
  if (!response.ok) {
    const error = body?.error ?? {};
    if (response.status === 401 && session) {
      // The session expired or was revoked: forget it so the app asks to sign in again.
      storeSession(null);
      window.dispatchEvent(new Event("copytrack-signed-out"));
    }
    throw new ApiError(response.status, error.code ?? "error", error.message ?? `The server answered ${response.status}.`, error.details ?? {});
  }
  return body;
}

/**
 * The first `pages` pages of a paginated list (the API's `page` and `per_page`), joined, and
 * whether another page may follow (the last one read was full).
 */
export async function fetchPages<T>(path: string, key: string, pages: number, perPage: number): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  for (let page = 1; page <= pages; page++) {
    const chunk: T[] = (await api(`${path}${path.includes("?") ? "&" : "?"}page=${page}&per_page=${perPage}`))[key];
    items.push(...chunk);
    if (chunk.length < perPage) return { items, more: false };
  }
  return { items, more: true };
}

export const post = (path: string, body: unknown) =>
  api(path, { method: "POST", body: JSON.stringify(body, (_, v) => (typeof v === "bigint" ? v.toString() : v)) });

/** Upload with progress events (fetch cannot report upload progress; XMLHttpRequest can). */
export function upload(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<any> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", path);
    const session = storedSession();
    if (session) request.setRequestHeader("Authorization", `Bearer ${session.token}`);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onerror = () => reject(new ApiError(0, "offline", "The upload was interrupted. Check your connection and retry."));
    request.onload = () => {
      const body = request.responseText ? parseJson(request.responseText) : {};
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new ApiError(request.status, body?.error?.code ?? "error", body?.error?.message ?? `The server answered ${request.status}.`));
    };
    request.send(form);
  });
}

export interface Status {
  chain: { chain_id: number; rpc_url: string | null; head?: number; error?: string };
  contracts?: Record<string, `0x${string}`>;
}

let statusPromise: Promise<Status> | null = null;
export function status(): Promise<Status> {
  statusPromise ??= api("/api/v1/status").catch((error) => {
    statusPromise = null;
    throw error;
  });
  return statusPromise;
}
