// Types of panthera-client (hand-written; the code is index.js).

export const VERSION: string;

export interface ErrorInit {
  requestId?: string | null;
  code?: string | number | null;
  fatal?: boolean;
  retryAfter?: number | null;
  body?: unknown;
}

/** An answer that is not a success. */
export class PantheraError extends Error {
  constructor(status: number, message: string, init?: ErrorInit);
  /** HTTP status. */
  status: number;
  /** The server's text. */
  readonly serverMessage: string;
  /** The X-Request-Id header: names the call in the server's log. */
  requestId: string | null;
  /** REST code (`NOT_FOUND` …) or the signed answer's numeric code. */
  code: string | number | null;
  /** A plain-text error of the signed protocol (before the caller is known). */
  fatal: boolean;
  /** Seconds from Retry-After (429, 503). */
  retryAfter: number | null;
  body: unknown;
}
export class BadRequestError extends PantheraError {}
export class AuthenticationError extends PantheraError {}
export class ForbiddenError extends PantheraError {}
export class NotFoundError extends PantheraError {}
export class ConflictError extends PantheraError {}
export class ValidationError extends PantheraError {}
export class RateLimitError extends PantheraError {}
export class ServerError extends PantheraError {}
export function errorClass(status: number, message?: string, fatal?: boolean): typeof PantheraError;

export type Algo = 'sha1' | 'sha256' | 'sha512';
/** An answer: attributes and children as keys; one child an object, several an array. */
export type Answer = { [key: string]: any };

export function asList<T = any>(value: T | T[] | null | undefined): T[];
export function parseXml(xml: string): Answer;
export function parseAnswer(text: string, contentType: string | null): Answer;
export function sign(secret: string, timestamp: string, key: string, nonce: string, algo?: Algo): string;
export function formatTimestamp(unixSeconds: number): string;
export function serverTime(message: string, dateHeader?: string | null): number | null;

export class UserToken {
  constructor(token: string, secret: string, authUrl?: string | null, validUntil?: string | null);
  token: string;
  secret: string;
  authUrl: string | null;
  validUntil: string | null;
}

export interface ClientOptions {
  url: string;
  apiKey: string;
  apiSecret: string;
  algo?: Algo;
  format?: 'json' | 'xml';
  token?: UserToken | null;
  version?: string;
  userAgent?: string | null;
  /** Sign again once with the server's time when a timestamp is refused (default true). */
  correctClock?: boolean;
}

export type Params = Record<string, string | number | Array<string | number> | null | undefined>;

export class Client {
  constructor(options: ClientOptions);
  clockOffset: number;
  clockCorrections: number;
  rateLimit: Record<string, string>;
  withToken(token: UserToken | string, secret?: string | null): Client;
  signedParams(now?: number): Record<string, string>;
  call(method: string, params?: Params): Promise<Answer>;
  download(method: string, params?: Params): Promise<Buffer>;
  fetchFile(url: string): Promise<Buffer>;
  requestToken(appName: string, options?: { tokenSecret?: string | null; appCallback?: string | null; [param: string]: any }): Promise<UserToken>;
  authorizationUrl(token: UserToken | string): string;
  tokenValidUntil(): Promise<number | null>;
  setTokenValidUntil(when: number | string): Promise<Answer>;
  tokenIsValid(): Promise<boolean>;
}

export type UserStatus = 'active' | 'inactive' | 'pending';

export interface User {
  id: string;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  company: string;
  status: UserStatus;
  created_at: string;
  updated_at: string;
}

export interface UserPage {
  data: User[];
  total: number;
  limit: number;
  offset: number;
}

export interface UserFields {
  username?: string;
  email?: string;
  status?: UserStatus;
  first_name?: string | null;
  last_name?: string | null;
  company?: string | null;
  password?: string;
}

export class Users {
  constructor(options: { url: string; apiKey: string; userAgent?: string | null });
  rateLimit: Record<string, string>;
  list(query?: { limit?: number; offset?: number; status?: UserStatus }): Promise<UserPage>;
  iterate(options?: { status?: UserStatus; pageSize?: number }): AsyncGenerator<User>;
  get(id: string): Promise<User>;
  create(fields: UserFields & { username: string; email: string; idempotencyKey?: string }): Promise<User>;
  update(id: string, fields: UserFields): Promise<User>;
  delete(id: string): Promise<void>;
}
