/**
 * Tickets: what a browser shows in a URL instead of the API token, where it
 * cannot set a header (a WebSocket). A ticket opens one path, for GET, until
 * it expires (TICKET_LIFETIME_MS after it is issued), and is
 * `<expiresAt>.<mac>`: the expiry in epoch milliseconds and an
 * HMAC-SHA256 over the path and the expiry, under a key derived from the
 * API token, so that only a holder of the token can make one and rotating
 * the token voids every ticket. Nothing is stored: a ticket may be used again
 * until it expires, as a socket that reconnects does, and a leaked one opens
 * reading one instance for at most a minute.
 */

export const TICKET_LIFETIME_MS = 60_000;

const encoder = new TextEncoder();

/** The ticket key, derived from the token by HKDF rather than the token itself, so that a MAC never keys with the bare secret. */
async function ticketKey(token: string) {
  const secret = await crypto.subtle.importKey("raw", encoder.encode(token), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("durable-machines ticket v1") },
    secret,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** What the MAC covers: the path and the expiry, separated by a character neither can hold. */
const signed = (path: string, expiresAt: number) => encoder.encode(`${expiresAt}\n${path}`);

const base64url = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return undefined;
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/** A ticket for `path` (a URL's pathname, percent-encoded as a request carries it) that expires at `expiresAt`. */
export async function issueTicket(token: string, path: string, expiresAt: number): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await ticketKey(token), signed(path, expiresAt));
  return `${expiresAt}.${base64url(mac)}`;
}

/**
 * Whether `ticket` was issued under `token` for `path` and is not expired at
 * `now`. The MAC is checked by WebCrypto's verify, which compares in
 * constant time.
 */
export async function ticketOpens(token: string, path: string, ticket: string, now: number): Promise<boolean> {
  const match = /^([1-9][0-9]{0,15})\.(.*)$/.exec(ticket);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  const mac = fromBase64url(match[2]!);
  if (!mac || now >= expiresAt) return false;
  return crypto.subtle.verify("HMAC", await ticketKey(token), mac, signed(path, expiresAt));
}
