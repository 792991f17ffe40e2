/**
 * A code-first step may return a ReadableStream of bytes, as on Cloudflare:
 * the engine reads it to the end, keeps the bytes in rows beside the log,
 * and hands run() a fresh stream of the same bytes on every replay. These
 * are the limits, the errors (Cloudflare's names and messages) and the
 * preview that readers of the log are shown instead of the bytes.
 */
export interface StreamLimits {
  /** Bytes a stored row holds; Cloudflare's engine keeps 256 KiB rows (a Durable Object's SQLite row holds at most 2 MB). */
  rowBytes: number;
  /** The largest chunk a step's stream may yield. */
  chunkBytes: number;
  /** Bytes of streamed outputs one instance may keep. */
  instanceBytes: number;
}

export const STREAM_LIMITS: StreamLimits = { rowBytes: 256 * 1024, chunkBytes: 16 * 1024 * 1024, instanceBytes: 1024 * 1024 * 1024 };

/** Where a streamed output's bytes are: `chunks` rows under the step's key and the attempt that produced them. */
export interface StoredStream {
  bytes: number;
  chunks: number;
}

/** The step returned a stream that is locked, or that failed while it was read. */
export class InvalidStepReadableStreamError extends Error {
  readonly code = "stream.invalid";
  constructor(message = "Step returned a ReadableStream that is already locked or otherwise unreadable. Return a fresh, unlocked ReadableStream from step.do().") {
    super(message);
    this.name = "InvalidStepReadableStreamError";
  }
}

export class UnsupportedStreamChunkError extends Error {
  readonly code = "stream.unsupported_chunk";
  constructor() {
    super("Step returned a ReadableStream with unsupported chunk type. Only ArrayBuffer and TypedArray chunks are supported.");
    this.name = "UnsupportedStreamChunkError";
  }
}

export class OversizedStreamChunkError extends Error {
  readonly code = "stream.oversized_chunk";
  constructor(limit: number) {
    super(`Step returned a ReadableStream chunk larger than the maximum allowed size of ${limit} bytes. Return smaller chunks from step.do().`);
    this.name = "OversizedStreamChunkError";
  }
}

export class StreamOutputStorageLimitError extends Error {
  readonly code = "stream.storage_limit";
  constructor(limit: number) {
    super(`The instance has exceeded the ${sizeLabel(limit)} storage limit`);
    this.name = "StreamOutputStorageLimitError";
  }
}

/** 1073741824 as Cloudflare writes it, "1GiB"; a limit that is no whole number of KiB in bytes. */
function sizeLabel(bytes: number): string {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes} bytes`;
}

/** The errors that end the instance rather than fail the attempt; what status() then reports. */
export function streamFailure(error: unknown, step: string): { attempt: string; instance: string } | undefined {
  if (error instanceof StreamOutputStorageLimitError) return { attempt: error.message, instance: error.message };
  if (error instanceof InvalidStepReadableStreamError || error instanceof UnsupportedStreamChunkError || error instanceof OversizedStreamChunkError) {
    return { attempt: error.message, instance: `The execution of the Workflow instance was terminated, as the step "${step}" returned an invalid ReadableStream output. ${error.message}` };
  }
  return undefined;
}

/** Characters of a text preview, then Cloudflare's marker. */
export const PREVIEW_CHARS = 1024;
/** A UTF-8 character is at most 4 bytes, so this many first bytes always cover the preview. */
export const PREVIEW_BYTES = PREVIEW_CHARS * 4;

/**
 * What readers of the log are shown for a streamed output, as Cloudflare
 * shows it: its start as text when the bytes are UTF-8, with
 * "[truncated output]" past 1024 characters, else `[ReadableStream (binary): N bytes]`.
 */
export function streamPreview(head: Uint8Array, totalBytes: number): string {
  const truncated = totalBytes > head.byteLength;
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(head, { stream: truncated });
    return text.length > PREVIEW_CHARS || truncated ? `${text.slice(0, PREVIEW_CHARS)}[truncated output]` : text;
  } catch {
    return `[ReadableStream (binary): ${totalBytes} bytes]`;
  }
}
