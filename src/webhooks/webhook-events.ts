/** The events a client may subscribe an endpoint to (docs/api.md, Webhooks). */
export const WEBHOOK_EVENT_TYPES = ['analysis.succeeded', 'analysis.failed', 'ip.verdict_changed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Sent only by `POST /v1/webhooks/:id/test`, to that endpoint, whatever it subscribed to. */
export const WEBHOOK_TEST_EVENT = 'webhook.test';

/** Every `type` a delivery body can carry. */
export type WebhookDeliveryType = WebhookEventType | typeof WEBHOOK_TEST_EVENT;

/** The longest dedupe key `WebhookEvents.emit` accepts (the column's width). */
export const DEDUPE_KEY_MAX_LENGTH = 255;
