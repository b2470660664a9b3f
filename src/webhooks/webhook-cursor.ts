/** A position in a list ordered by (createdAt, id), newest first: the last item of a page. */
export interface WebhookCursor {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 9999-12-31T23:59:59.999Z: anything later did not come from this API. */
const MAX_TIMESTAMP_MS = 253_402_300_799_999;

/** Opaque to clients: base64url of `<epoch ms>.<uuid>`. */
export function encodeCursor({ createdAt, id }: WebhookCursor): string {
  return Buffer.from(`${createdAt.getTime()}.${id}`, 'utf8').toString('base64url');
}

/** The cursor, or undefined when `encoded` is not one this API issued. */
export function decodeCursor(encoded: string): WebhookCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(encoded)) return undefined;
  const match = /^(\d{1,15})\.(.+)$/.exec(Buffer.from(encoded, 'base64url').toString('utf8'));
  if (!match || !UUID.test(match[2]) || Number(match[1]) > MAX_TIMESTAMP_MS) return undefined;
  return { createdAt: new Date(Number(match[1])), id: match[2].toLowerCase() };
}
