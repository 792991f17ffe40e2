/**
 * Whether a close frame may carry `code` (RFC 6455, section 7.4): 1000 to
 * 1003 and 1007 to 1014 are defined, 3000 to 4999 belong to libraries and
 * applications. 1004 is reserved, and 1005, 1006 and 1015 only report
 * locally that a frame had no code, that the connection dropped without
 * one, or that TLS failed; workerd throws when asked to send them.
 */
export function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Closes `socket` unless it is closed already (dropped, or answered by the runtime); a code a peer may not send becomes 1000, a normal closure. */
export function closeSocket(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === WebSocket.READY_STATE_CLOSED) return;
  socket.close(sendableCloseCode(code) ? code : 1000, reason);
}
