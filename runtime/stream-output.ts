import {
  InvalidStepReadableStreamError,
  OversizedStreamChunkError,
  PREVIEW_BYTES,
  StreamOutputStorageLimitError,
  streamPreview,
  UnsupportedStreamChunkError,
  type StoredStream,
  type StreamLimits,
} from "../core/code/streams";
import { text } from "../core/errors";
import type { ChunkStore } from "./store";

/** The bytes of a chunk as Cloudflare accepts them: an ArrayBuffer or a typed array, not a DataView. */
function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk) && !(chunk instanceof DataView)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new UnsupportedStreamChunkError();
}

export interface StreamTarget {
  chunks: ChunkStore;
  key: string;
  attempt: number;
  limits: StreamLimits;
  /** Aborted when the attempt times out or the instance stops it: reading stops there. */
  signal: AbortSignal;
}

/**
 * Reads a step's stream to its end into rows of `limits.rowBytes` (the last
 * one shorter), writing each as it fills, so memory holds one row however
 * long the stream. Returns where the bytes are and the preview readers are
 * shown. On any failure the attempt's rows are dropped: rows count only
 * once a recorded result names them.
 */
export async function storeStream(stream: ReadableStream<unknown>, target: StreamTarget): Promise<{ stored: StoredStream; preview: string }> {
  const { chunks, key, attempt, limits, signal } = target;
  // A callback that answers after its attempt timed out must not touch the rows of the attempt after it.
  if (signal.aborted) {
    void stream.cancel(signal.reason).catch(() => undefined);
    throw signal.reason;
  }
  if (stream.locked) throw new InvalidStepReadableStreamError();
  let reader: ReadableStreamDefaultReader<unknown>;
  try {
    reader = stream.getReader();
  } catch {
    throw new InvalidStepReadableStreamError();
  }
  const stop = () => void reader.cancel(signal.reason).catch(() => undefined);
  signal.addEventListener("abort", stop, { once: true });
  let stored = chunks.bytes();
  const head = new Uint8Array(PREVIEW_BYTES);
  let headBytes = 0;
  let row = new Uint8Array(limits.rowBytes);
  let filled = 0;
  let rows = 0;
  let total = 0;
  let ended = false;
  const write = (bytes: Uint8Array) => {
    if (signal.aborted) throw signal.reason;
    if (stored + bytes.byteLength > limits.instanceBytes) throw new StreamOutputStorageLimitError(limits.instanceBytes);
    chunks.write(key, attempt, rows++, bytes);
    stored += bytes.byteLength;
  };
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw new InvalidStepReadableStreamError(`Failed to read from step ReadableStream output. ${error instanceof Error ? text(error.message) : text(error)}`);
      }
      if (signal.aborted) throw signal.reason;
      if (next.done) break;
      const bytes = bytesOf(next.value);
      if (bytes.byteLength > limits.chunkBytes) throw new OversizedStreamChunkError(limits.chunkBytes);
      total += bytes.byteLength;
      const preview = bytes.subarray(0, PREVIEW_BYTES - headBytes);
      head.set(preview, headBytes);
      headBytes += preview.byteLength;
      for (let offset = 0; offset < bytes.byteLength; ) {
        const take = Math.min(limits.rowBytes - filled, bytes.byteLength - offset);
        row.set(bytes.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled < limits.rowBytes) continue;
        write(row);
        row = new Uint8Array(limits.rowBytes);
        filled = 0;
      }
    }
    ended = true;
    if (filled) write(row.slice(0, filled));
    return { stored: { bytes: total, chunks: rows }, preview: streamPreview(head.subarray(0, headBytes), total) };
  } catch (error) {
    chunks.drop(key, attempt);
    throw error;
  } finally {
    signal.removeEventListener("abort", stop);
    if (!ended) await reader.cancel(new Error("The step's stream was not read to its end.")).catch(() => undefined);
  }
}

/**
 * A fresh stream of a stored output, reading one row each time its reader
 * pulls (none before the first read), so every replay and every subscriber
 * gets the same bytes from the start.
 */
export function replayStream(stored: StoredStream, read: (index: number) => Uint8Array | undefined | Promise<Uint8Array | undefined>): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (index >= stored.chunks) return controller.close();
        const bytes = await read(index);
        if (!bytes) return controller.error(new Error(`Missing chunk ${index} of a streamed step output; was the instance deleted?`));
        index++;
        controller.enqueue(bytes);
      },
    },
    { highWaterMark: 0 },
  );
}
