// The panels' way to the server: `ctx.api` (which adds the session's CSRF token and
// shows the sign-in on a 401) with the answer's error words turned into an exception,
// so a panel can show "why" without looking at status codes it does not care about.

// Thrown for an answer that is not 2xx; `message` is the server's `error` words.
export class RequestError extends Error {
  constructor(status, body) {
    const words = body && typeof body === "object" && body.error;
    super(words || `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

// `GET path` → the body of a 2xx answer.
export async function get(ctx, path) {
  return unwrap(await ctx.api.get(path));
}

// `method path body` → the body of a 2xx answer (`null` for a 204).
export async function send(ctx, method, path, body) {
  return unwrap(await ctx.api.send(method, path, body));
}

// `{status, body}` as the contract says `ctx.api` resolves; a bare body (a shell that
// answers only the body) is taken as a success.
function unwrap(answer) {
  if (answer && typeof answer === "object" && "status" in answer && "body" in answer) {
    if (answer.status >= 200 && answer.status < 300) return answer.body ?? null;
    throw new RequestError(answer.status, answer.body);
  }
  return answer ?? null;
}

// `a/b c.dial` as a URL path: each segment encoded, the slashes kept.
export function pathSegments(path) {
  return String(path).split("/").map(encodeURIComponent).join("/");
}
