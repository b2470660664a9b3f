/**
 * A position in a list ordered by (createdAt, id), newest first: the last item of a page. One format
 * for every paged list (analyses, webhook deliveries), opaque to clients.
 */
export interface KeysetCursor {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_ENCODED_LENGTH = 128;
/** 9999-12-31T23:59:59.999Z: anything later did not come from this API. */
const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/** Opaque to clients: base64url of `<epoch ms>.<uuid>`. */
export function encodeCursor({ createdAt, id }: KeysetCursor): string {
  return Buffer.from(`${createdAt.getTime()}.${id}`, 'utf8').toString('base64url');
}

/** The cursor, or undefined when `encoded` is not one this API issued. */
export function decodeCursor(encoded: string): KeysetCursor | undefined {
  if (encoded.length > MAX_ENCODED_LENGTH || !/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  const match = /^(\d{1,15})\.(.+)$/.exec(Buffer.from(encoded, 'base64url').toString('utf8'));
  if (!match || !UUID.test(match[2])) return undefined;
  const milliseconds = Number(match[1]);
  if (milliseconds > MAX_TIMESTAMP_MS) return undefined;
  return { createdAt: new Date(milliseconds), id: match[2].toLowerCase() };
}
