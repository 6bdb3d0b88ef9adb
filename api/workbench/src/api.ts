// The public API, as the page calls it: the key the person typed goes in each request's
// Authorization header and nowhere else (never a URL, a cookie or a log).

export interface Caller {
  tenant: string;
  role: string;
  holder: string | null;
  may: string[];
  four_eyes: boolean;
}

export interface ServerDiagnostic {
  severity: "error" | "warning";
  code: string;
  file: string;
  line: number;
  column: number;
  span: { start: number; end: number };
  message: string;
  help?: string;
}

export interface PolicyVersion {
  policy_id: string;
  version: string;
  content_hash: string;
  status: "draft" | "published" | "retired";
  period_kind: string;
  effective_from: string;
  effective_to: string | null;
  stored_by: string | null;
}

export interface Approval {
  approver: string;
  comment: string;
  content_hash: string;
  approved_at: string;
  current: boolean;
}

export type VersionHistory = PolicyVersion & { approvals: Approval[] };

export type Files = Record<string, string>;

/** A refusal, in the server's words: `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly diagnostics: ServerDiagnostic[] = [],
  ) {
    super(message);
  }
}

export class Api {
  constructor(private readonly key: string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.key}` };
    const init: RequestInit = { method, headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, "unreachable", "The server did not answer: is `incentive serve` running?");
    }
    const text = await response.text();
    const parsed: unknown = text === "" ? null : safeJson(text);
    if (!response.ok) {
      const error = isRecord(parsed) && isRecord(parsed["error"]) ? parsed["error"] : {};
      const message = typeof error["message"] === "string" ? error["message"] : `${response.status} ${response.statusText}`;
      const code = typeof error["code"] === "string" ? error["code"] : String(response.status);
      // A package that does not load answers with every diagnostic: `{ items: [...] }`.
      const listed = isRecord(error["diagnostics"]) ? error["diagnostics"]["items"] : undefined;
      const diagnostics = Array.isArray(listed) ? (listed as ServerDiagnostic[]) : [];
      throw new ApiError(response.status, code, message, diagnostics);
    }
    return parsed as T;
  }

  /** A route that answers with a page rather than JSON (a simulation's report). */
  async text(path: string): Promise<string> {
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${this.key}` },
      credentials: "omit",
      cache: "no-store",
    });
    if (!response.ok) throw new ApiError(response.status, String(response.status), `${response.status} ${response.statusText}`);
    return response.text();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export const path = (strings: TemplateStringsArray, ...parts: string[]): string =>
  strings.reduce((out, s, i) => out + s + (i < parts.length ? encodeURIComponent(parts[i] ?? "") : ""), "");
