// The one way the apps (the editor, the people's client) talk to the server: JSON over
// fetch, with the session's CSRF token on every request that changes something, and a 401
// anywhere handed to whoever shows the sign-in screen (the work on the page stays where it
// is).

let csrf = null;
let onSignedOut = () => {};

// Where a 401 means "wrong password", not "the session has ended".
const PASSWORD_CHECKS = new Set(['/api/login', '/api/people/login', '/api/me/password']);

/** Remembers the session's CSRF token (from a sign-in or /api/session). */
export function setSession(session) {
  csrf = session ? session.csrf : null;
}

/** Who to tell when the server says the session is gone. */
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (csrf) headers['X-CSRF-Token'] = csrf;
    // A file (Blob) goes as its raw bytes with its own type; anything else as JSON.
    if (body instanceof Blob) headers['Content-Type'] = body.type || 'application/octet-stream';
    else if (body !== undefined) headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined || body instanceof Blob ? body : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    return { status: 0, body: { error: `the server did not answer (${e.message}); is it running?` } };
  }
  let parsed = null;
  const text = await response.text();
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { error: text.trim() };
    }
  }
  if (response.status === 401 && !PASSWORD_CHECKS.has(path)) {
    onSignedOut(parsed && parsed.error);
  }
  return { status: response.status, body: parsed };
}

/** `GET path` → `{status, body}`. */
export function get(path) {
  return request('GET', path);
}

/** `method path` with a JSON body (and the CSRF token) → `{status, body}`. */
export function send(method, path, body) {
  return request(method, path, body);
}

/** A file's API path, each segment encoded (`sub dir/a b.dial` stays two segments). */
export function filePath(path) {
  return '/api/files/' + path.split('/').map(encodeURIComponent).join('/');
}

/** The error words of an answer, for showing. */
export function errorText(answer) {
  if (answer.body && answer.body.error) return answer.body.error;
  return `the server answered ${answer.status}`;
}
