// Generated from openapi.json by `npm run client:generate` (scripts/generate-client.mjs). Do not edit.
export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Same as /health/ready
         * @description The readiness answer, under the path load balancers probe by default.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness: 200 while the process can serve; depends on nothing external
         * @description For a liveness probe: never asks the database, Redis or a provider.
         */
        get: operations["getLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness: 503 when the database is unreachable or the app is stopping
         * @description For a readiness probe: the database, pending migrations (DB_MIGRATIONS=off) and shutdown decide; Redis and provider keys are reported in `details` without failing it.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/ip-allowlist": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The allowlist: admin entries and IP_ALLOWLIST
         * @description An allowlisted address is `clean`, score 0, whatever lists and reports say, and no provider is asked.
         */
        get: operations["listIpAllowlist"];
        put?: never;
        /**
         * Allowlist a network, an address or an AS
         * @description Applies at once on this replica and within 10 s on the others; cached answers need no purge.
         */
        post: operations["addIpAllowlistEntry"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/ip-allowlist/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove an allowlist entry
         * @description Entries from IP_ALLOWLIST are configuration: they cannot be removed here.
         */
        delete: operations["deleteIpAllowlistEntry"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/ip-feeds": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Each IP feed: entries, last fetch, age, last error
         * @description URLs are shown with their credentials masked.
         */
        get: operations["listIpFeeds"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/ip-reports/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a user's report
         * @description It stops counting at once: the address's cached answer is dropped on every replica.
         */
        delete: operations["deleteIpReport"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Provider keys: masked id, state, expiry, quota left
         * @description Keys are masked to their last four characters.
         */
        get: operations["listProviderKeys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Change an account's role, daily AI limit, or disable it
         * @description A disabled account's tokens stop working at once, on every replica.
         */
        patch: operations["updateUser"];
        trace?: never;
    };
    "/v1/analyses": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your analyses, newest first
         * @description Cursor pagination: pass `nextCursor` back.
         */
        get: operations["listAnalyses"];
        put?: never;
        /**
         * Analyse an image
         * @description Upload one image (JPEG, PNG, WebP, GIF — first frame —, AVIF; HEIC when the server can decode it). The type is read from the bytes, never from the filename or part content type. The image is normalised (EXIF orientation applied, all metadata incl. GPS removed, long edge ≤ AI_MAX_IMAGE_EDGE) before the AI provider sees or Argus stores it. Identical uploads with the same prompt are answered from cache (`cached: true`, no AI quota used); concurrent identical uploads share one provider call.
         *
         *     Every analysis is a job. With `Prefer: respond-async` the answer is 202 at once, with `Location`; otherwise the request waits for the job up to `Prefer: wait=N` seconds (≤ 60; default ANALYSIS_SYNC_WAIT_S): 201 when it succeeded, its problem (502/503/504, 429 quota) when it failed, 202 when the wait ran out — the job goes on; poll `GET /v1/analyses/{id}` (with `Prefer: wait=N` to long-poll). A cached answer is 201 at once.
         */
        post: operations["createAnalysis"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Analyse several images
         * @description Up to BATCH_MAX_FILES (20) images in parts named `files`, with one optional `prompt` and `metadata` for all. Each file is accepted or refused on its own: one item per file, in order, with the analysis id and status (`succeeded` when answered from cache, else `queued`) or the problem that refused it. Each file counts against ANALYSIS_RATE_LIMIT_PER_MINUTE (a batch that does not fit is refused whole, 429).
         */
        post: operations["createAnalysisBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One of your analyses
         * @description With `Prefer: wait=N` (N ≤ 60) an unfinished analysis is answered when its job succeeds or fails, or after N seconds, whichever comes first (long-poll).
         */
        get: operations["getAnalysis"];
        put?: never;
        post?: never;
        /**
         * Delete one of your analyses
         * @description The stored image is removed too once no other analysis (of any user) uses it.
         */
        delete: operations["deleteAnalysis"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/analyses/{id}/image": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The normalised image that was analysed (metadata-free JPEG or WebP)
         * @description The bytes the provider saw: EXIF orientation applied, metadata removed, long edge ≤ AI_MAX_IMAGE_EDGE.
         */
        get: operations["getAnalysisImage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign in with email and password
         * @description A wrong email and a wrong password get the same 401, in similar time.
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign out this session
         * @description Revokes the refresh token's family and the access token of this call (until it expires), on every replica within a second.
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/logout-all": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign out every session
         * @description Revokes every refresh-token family of the account and every access token issued before the call.
         */
        post: operations["logoutAll"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The signed-in account and its AI usage today (UTC)
         * @description `usage.dailyLimit` is AI_DAILY_LIMIT_PER_USER unless an admin set the account its own.
         */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Exchange a refresh token for a new pair
         * @description The presented token is spent. Presenting a spent token again revokes its whole family.
         */
        post: operations["refreshTokens"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/register": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an account and sign in
         * @description Answers the account and a first token pair. The email is normalised first; one account per address.
         */
        post: operations["register"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/ip/lookup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reputation of up to 100 addresses
         * @description Each item is what GET /v1/ip/{address} would answer, or that item’s error; one bad item never fails the others. Every distinct address counts against IP_RATE_LIMIT_PER_MINUTE: a batch that does not fit is refused whole with 429.
         */
        post: operations["lookupIps"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/ip/ranges/{cidr}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * What Argus knows inside a range
         * @description For an IPv4 /24–/32 or IPv6 /48–/128 (the slash URL-encoded as %2F): the network’s AS and country, the feed entries that hold or lie inside it, and every address in it that was reported or looked up. Asks no provider.
         */
        get: operations["getIpRange"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/ip/{address}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Reputation of one address
         * @description Public addresses are scored from every configured source (AbuseIPDB, users’ reports, blocklists) and cached for IP_CACHE_TTL; other scopes answer `not-applicable` without asking anyone. A failing source never fails the lookup: its last known answer stands in (`stale`), or it is listed with its `error`.
         */
        get: operations["getIpReputation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/ip/{address}/history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The address's reputation over time, newest first
         * @description One snapshot per fresh lookup of the address (cached answers add none).
         */
        get: operations["getIpHistory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/ip/{address}/reports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report an address for abuse
         * @description Feeds the `local` source's score at once (the address's cached answer is dropped).
         */
        post: operations["reportIp"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your webhook endpoints (secrets are never listed)
         * @description Disabled endpoints are listed too, with `disabledAt`.
         */
        get: operations["listWebhooks"];
        put?: never;
        /**
         * Register a webhook endpoint
         * @description Argus POSTs the subscribed events to the URL, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The answer carries the signing secret, once. At most 20 endpoints per user.
         */
        post: operations["createWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a webhook endpoint and its queued deliveries
         * @description Nothing more is delivered to it, retries included.
         */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Deliveries to one of your endpoints, newest first
         * @description Cursor pagination: pass `nextCursor` back.
         */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a `webhook.test` event to the endpoint
         * @description Queued like any delivery (same signing, retries and checks); follow it in the deliveries list.
         */
        post: operations["testWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        AdminUser: {
            /** Format: uuid */
            id: string;
            /** @example ada@example.com */
            email: string | null;
            /** @enum {string} */
            role: "user" | "admin";
            disabled: boolean;
            /** @description null: AI_DAILY_LIMIT_PER_USER applies. */
            dailyLimit: number | null;
            /** Format: date-time */
            createdAt: string;
        };
        Allowlist: {
            /** @description The admin entries, oldest first. */
            items: components["schemas"]["AllowlistEntry"][];
            /**
             * @description IP_ALLOWLIST entries (read-only here).
             * @example [
             *       "AS15169"
             *     ]
             */
            configured: string[];
        };
        AllowlistEntry: {
            /** Format: uuid */
            id: string;
            /**
             * @description Canonical form (host bits cleared, `AS` upper-case).
             * @example 140.82.112.0/20
             */
            value: string;
            note: string | null;
            /** Format: date-time */
            expiresAt: string | null;
            /** @description Past its expiry: listed until deleted, but no longer applied. */
            expired: boolean;
            /** Format: date-time */
            createdAt: string;
        };
        AnalysedImage: {
            /**
             * @description Format of the normalised, stored image.
             * @example jpeg
             * @enum {string}
             */
            format: "jpeg" | "webp";
            /** @example 1568 */
            width: number;
            /** @example 1045 */
            height: number;
            /**
             * @description Size of the normalised image in bytes.
             * @example 214733
             */
            bytes: number;
        };
        Analysis: {
            /**
             * Format: uuid
             * @example 0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11
             */
            id: string;
            /**
             * @description The analysis job: `queued` → `running` → `succeeded` (with `result`) or `failed` (with `error`).
             * @example succeeded
             * @enum {string}
             */
            status: "queued" | "running" | "succeeded" | "failed";
            /**
             * @description sha256 (hex) of the uploaded bytes.
             * @example 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
             */
            sha256: string;
            /** @description True when no upstream call was made for this analysis (answered from cache). */
            cached: boolean;
            /**
             * @description How the answer came from the cache: `exact` (the same bytes) or `near` (a resized or re-encoded copy of an image already analysed, by perceptual hash); null when the model was asked.
             * @enum {string|null}
             */
            cache: "exact" | "near" | null;
            /**
             * @example openai
             * @enum {string}
             */
            provider: "openai" | "local";
            /** @example gpt-4o-mini */
            model: string;
            /** @example Is there a bicycle? */
            prompt: string | null;
            /** @description Null until the analysis succeeded. */
            result: components["schemas"]["AnalysisResult"] | null;
            /** @description The moderation verdict, made for every answered analysis (copied on a cache hit); null while queued, running or failed, and on analyses answered before moderation existed. */
            moderation: components["schemas"]["AnalysisModeration"] | null;
            /** @description Why the analysis failed (the problem a waiting upload was answered with); null otherwise. */
            error: components["schemas"]["AnalysisProblem"] | null;
            image: components["schemas"]["AnalysedImage"];
            /**
             * @example {
             *       "album": "holidays-2030",
             *       "favourite": true
             *     }
             */
            metadata: {
                [key: string]: string | number | boolean;
            };
            /** @description What this request cost. A cached answer reports zeros: it made no upstream call. */
            usage: components["schemas"]["AnalysisUsage"];
            /**
             * Format: date-time
             * @example 2030-06-01T12:00:00.000Z
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description When the analysis succeeded or failed; null while it is queued or running.
             * @example 2030-06-01T12:00:02.500Z
             */
            completedAt: string | null;
        };
        AnalysisModeration: {
            /** @enum {string} */
            decision: "accept" | "review" | "reject";
            categories: {
                [key: string]: number;
            };
            /** @example local */
            provider: string;
        };
        AnalysisPage: {
            /** @description Newest first. */
            items: components["schemas"]["Analysis"][];
            /**
             * @description Pass as `cursor` for the next page; null on the last page.
             * @example MTg5NjM1NjgwMDAwMC4wYjdlNGYwZS02YTUzLTRjMWUtOWE1Ny0zZjFmOGYwZjJkMTE
             */
            nextCursor: string | null;
        };
        AnalysisProblem: {
            /** @example urn:argus:problem:upstream-timeout */
            type: string;
            /** @example Gateway Timeout */
            title: string;
            /** @example 504 */
            status: number;
            /** @example The upstream provider "openai" did not answer in time. */
            detail: string;
        };
        AnalysisResult: {
            /** @example A red bicycle leaning against a brick wall on a sunny street. */
            summary: string;
            /**
             * @example [
             *       "bicycle",
             *       "red",
             *       "street",
             *       "outdoor"
             *     ]
             */
            tags: string[];
            /**
             * @description Provider-specific structured details. `openai`: objects, text, colours, setting, people, promptAnswer, contentWarnings. `local`: dimensions, colours, brightness, contrast, sharpness, transparency.
             * @example {
             *       "objects": [
             *         {
             *           "label": "bicycle",
             *           "count": 1
             *         }
             *       ],
             *       "text": null,
             *       "colours": [
             *         "red",
             *         "brown"
             *       ],
             *       "setting": "street",
             *       "people": 0,
             *       "promptAnswer": "Yes, a red bicycle.",
             *       "contentWarnings": []
             *     }
             */
            details: {
                [key: string]: unknown;
            };
        };
        AnalysisUsage: {
            /** @example 1105 */
            inputTokens: number;
            /** @example 96 */
            outputTokens: number;
            /**
             * @description Estimated US dollars; 0 when cached or local.
             * @example 0.00022335
             */
            costUsd: number;
        };
        AuthResponse: {
            user: components["schemas"]["User"];
            /**
             * @description JWT (HS256) for `Authorization: Bearer …`.
             * @example eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwYjZmMWQxZSJ9.c2lnbmF0dXJl
             */
            accessToken: string;
            /**
             * @description Opaque, single use: exchange it at /v1/auth/refresh for a new pair.
             * @example c2lnbmVkLW9wYXF1ZS1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDAwMA
             */
            refreshToken: string;
            /**
             * @description Access token lifetime in seconds.
             * @example 900
             */
            expiresIn: number;
        };
        BatchItem: {
            /**
             * @description Position of the file among the `files` parts, from 0.
             * @example 0
             */
            index: number;
            /**
             * Format: uuid
             * @description The analysis made for the file (when it was accepted).
             */
            id?: string;
            /**
             * @description The analysis job’s status when the batch was answered.
             * @enum {string}
             */
            status?: "queued" | "running" | "succeeded" | "failed";
            /** @description Why the file was refused (instead of `id`). */
            error?: components["schemas"]["AnalysisProblem"];
        };
        BatchReply: {
            /** @description One item per file, in the order of the parts. */
            items: components["schemas"]["BatchItem"][];
        };
        CreateAllowlistEntry: {
            /**
             * @description A CIDR (`192.0.2.0/24`, `2001:db8::/32`), a single address, or `AS<number>`.
             * @example 140.82.112.0/20
             */
            value: string;
            /** @example GitHub: FireHOL level3 false positive */
            note?: string;
            /**
             * Format: date-time
             * @description After this the entry no longer applies.
             * @example 2030-06-01T12:00:00.000Z
             */
            expiresAt?: string;
        };
        CreateIpReport: {
            /**
             * @description AbuseIPDB category ids, 1–23 (e.g. 18 brute-force, 22 SSH).
             * @example [
             *       18,
             *       22
             *     ]
             */
            categories: number[];
            /**
             * @description Free text, stored and echoed back, never interpreted.
             * @example SSH brute force against bastion-1, 300 attempts in 5 minutes
             */
            comment?: string;
        };
        CreateWebhook: {
            /**
             * Format: uri
             * @description Absolute http(s) URL (https in production), without credentials. Its host must not be or resolve to a loopback, private, link-local, CGNAT, multicast, reserved or cloud-metadata address; checked here and again before every delivery. Redirects are not followed.
             * @example https://hooks.example.com/argus
             */
            url: string;
            /**
             * @description The events to deliver; at least one, each once.
             * @example [
             *       "analysis.succeeded",
             *       "analysis.failed"
             *     ]
             */
            events: ("analysis.succeeded" | "analysis.failed" | "ip.verdict_changed")[];
            /**
             * @description Free text for your own records; no control characters.
             * @example Production callback
             */
            description?: string;
        };
        CreatedWebhook: {
            /**
             * Format: uuid
             * @example 5d1c1f5e-9a0b-4c53-8a39-0f6d2f3e7b11
             */
            id: string;
            /** @example https://hooks.example.com/argus */
            url: string;
            /**
             * @example [
             *       "analysis.succeeded"
             *     ]
             */
            events: ("analysis.succeeded" | "analysis.failed" | "ip.verdict_changed")[];
            /** @example Production callback */
            description: string | null;
            /**
             * Format: date-time
             * @description Set when every delivery failed for 24 h; a disabled endpoint gets no more deliveries.
             * @example null
             */
            disabledAt: string | null;
            /**
             * Format: date-time
             * @example 2030-06-01T12:00:00.000Z
             */
            createdAt: string;
            /**
             * @description The signing secret (`whsec_` + base64 of 32 random bytes). Shown only in this response: keep it to verify the `webhook-signature` of every delivery.
             * @example whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3lNKgKz8iyA=
             */
            secret: string;
        };
        IpBulkLookup: {
            /**
             * @description IPv4/IPv6 addresses. Each distinct address counts against IP_RATE_LIMIT_PER_MINUTE; duplicates are looked up once.
             * @example [
             *       "118.25.6.39",
             *       "2001:4860:4860::8888",
             *       "192.168.1.1",
             *       "not-an-ip"
             *     ]
             */
            ips: string[];
        };
        IpBulkLookupResult: {
            /** @description One item per input, in order: the answer GET /v1/ip/{address} would give, or the item’s error. */
            items: (components["schemas"]["IpReputation"] | components["schemas"]["IpLookupFailure"])[];
        };
        IpFeed: {
            /** @example firehol */
            name: string;
            /**
             * @description Credentials and query values masked.
             * @example https://***@feeds.example/list.txt
             */
            url: string;
            /** @example 4521 */
            entries: number;
            /**
             * Format: date-time
             * @description Last 200 or 304.
             */
            fetchedAt: string | null;
            /** Format: int64 */
            ageSeconds: number | null;
            /** @example HTTP 503 */
            lastError: string | null;
        };
        IpFeeds: {
            items: components["schemas"]["IpFeed"][];
        };
        IpHistory: {
            /** @example 118.25.6.39 */
            ip: string;
            /** @description Newest first. */
            items: components["schemas"]["IpHistoryItem"][];
        };
        IpHistoryItem: {
            /**
             * Format: date-time
             * @example 2030-06-01T12:00:00.000Z
             */
            checkedAt: string;
            /**
             * Format: int32
             * @example 87
             */
            score: number | null;
            /**
             * @example malicious
             * @enum {string}
             */
            verdict: "clean" | "suspicious" | "malicious" | "unknown";
            sources: components["schemas"]["IpSource"][];
        };
        IpLookupError: {
            /** @example 400 */
            status: number;
            /** @example Bad Request */
            title: string;
            /** @example "not-an-ip" is not an IPv4 or IPv6 address. */
            detail: string;
        };
        IpLookupFailure: {
            /**
             * @description The item as sent.
             * @example not-an-ip
             */
            input: string;
            error: components["schemas"]["IpLookupError"];
        };
        IpRange: {
            /**
             * @description Canonical CIDR, host bits cleared.
             * @example 45.12.7.0/24
             */
            network: string;
            /**
             * Format: int64
             * @example 213230
             */
            asn: number | null;
            /** @example Hetzner Online GmbH */
            asOrg: string | null;
            /** @example DE */
            country: string | null;
            feeds: components["schemas"]["IpRangeFeed"][];
            addresses: components["schemas"]["IpRangeAddress"][];
        };
        IpRangeAddress: {
            /** @example 45.12.7.9 */
            ip: string;
            /**
             * @description Counted users’ reports (one per reporter per 24 h).
             * @example 2
             */
            reports: number;
            /** Format: date-time */
            lastReportedAt: string | null;
            /**
             * Format: int32
             * @description Latest lookup; null: never looked up.
             */
            score: number | null;
            /**
             * @description Latest lookup; null: never looked up.
             * @enum {string|null}
             */
            verdict: "clean" | "suspicious" | "malicious" | "unknown" | null;
        };
        IpRangeFeed: {
            /** @example firehol_level1 */
            feed: string;
            /**
             * @description The feed entry that holds the range or lies inside it.
             * @example 45.12.0.0/16
             */
            prefix: string;
        };
        IpReport: {
            /**
             * Format: uuid
             * @example 6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b
             */
            id: string;
            /** @example 118.25.6.39 */
            ip: string;
            /**
             * @example [
             *       18,
             *       22
             *     ]
             */
            categories: number[];
            /** @example SSH brute force against bastion-1 */
            comment: string | null;
            /**
             * Format: date-time
             * @example 2030-06-01T12:00:00.000Z
             */
            createdAt: string;
        };
        IpReputation: {
            /**
             * @description Canonical form; IPv4-mapped IPv6 is given as IPv4.
             * @example 118.25.6.39
             */
            ip: string;
            /**
             * @example 4
             * @enum {number}
             */
            version: 4 | 6;
            /**
             * @description IANA special-purpose registry name, or `public`.
             * @example public
             * @enum {string}
             */
            scope: "public" | "private" | "loopback" | "link-local" | "multicast" | "carrier-grade-nat" | "documentation" | "benchmarking" | "reserved" | "unspecified" | "broadcast" | "unique-local" | "site-local" | "ipv4-mapped" | "ipv4-translated" | "nat64" | "6to4" | "teredo" | "as112" | "amt" | "orchid" | "drone-remote-id" | "segment-routing" | "discard";
            /**
             * Format: int32
             * @example 87
             */
            score: number | null;
            /**
             * @description score ≥ IP_VERDICT_MALICIOUS_AT → malicious, ≥ IP_VERDICT_SUSPICIOUS_AT → suspicious, else clean — but `clean` only on the allowlist or when AbuseIPDB answered with nothing against the address; otherwise `unknown` with score null. Users’ reports alone reach suspicious at most.
             * @example malicious
             * @enum {string}
             */
            verdict: "clean" | "suspicious" | "malicious" | "unknown" | "not-applicable";
            /**
             * Format: int64
             * @description Autonomous system (offline datasets).
             * @example 45090
             */
            asn: number | null;
            /** @example Shenzhen Tencent Computer Systems Company Limited */
            asOrg: string | null;
            /**
             * @description The routed block holding the address (the largest CIDR inside its AS range).
             * @example 118.24.0.0/15
             */
            network: string | null;
            /**
             * @description On the allowlist: clean by decision, no source asked.
             * @example false
             */
            allowlisted: boolean;
            /**
             * @description ISO 3166-1 alpha-2.
             * @example CN
             */
            country: string | null;
            /** @example Tencent Cloud Computing (Beijing) Co. Ltd */
            isp: string | null;
            /**
             * @description AbuseIPDB’s usage type; without it `hosting` for hosting/cloud networks (offline list), else null.
             * @example Data Center/Web Hosting/Transit
             */
            usageType: string | null;
            /** @example tencent.com */
            domain: string | null;
            /** @example false */
            isTor: boolean | null;
            sources: components["schemas"]["IpSource"][];
            /**
             * @description No provider was asked for this request.
             * @example false
             */
            cached: boolean;
            /**
             * @description At least one source is a stale stand-in.
             * @example false
             */
            stale: boolean;
            /**
             * Format: date-time
             * @example 2030-06-01T12:00:00.000Z
             */
            checkedAt: string;
        };
        IpSource: {
            /**
             * @description `abuseipdb`, `local` (users’ reports), `blocklist` (IP_BLOCKLISTS) or `feed:<name>` (IP_FEEDS hits).
             * @example abuseipdb
             */
            provider: string;
            /**
             * Format: int32
             * @description null when the source has nothing on the address, or failed with no earlier answer.
             * @example 87
             */
            score: number | null;
            /** @example 42 */
            totalReports: number;
            /**
             * @description Distinct reporters, where the source knows them.
             * @example 17
             */
            distinctReporters?: number;
            /**
             * Format: date-time
             * @example 2030-05-30T08:14:00.000Z
             */
            lastReportedAt: string | null;
            /**
             * @description AbuseIPDB category ids (1–23).
             * @example [
             *       18,
             *       22
             *     ]
             */
            categories: number[];
            /**
             * Format: date-time
             * @description When the source answered (for a stale answer: when it first did).
             * @example 2030-06-01T12:00:00.000Z
             */
            fetchedAt: string;
            /**
             * @description `blocklist` only: the lists (file base names) that contain the address.
             * @example [
             *       "firehol_level1"
             *     ]
             */
            lists?: string[];
            /**
             * @description `feed:<name>` sources: the feed lists the address (always true).
             * @example true
             */
            listed?: boolean;
            /**
             * @description Why the provider failed on this lookup. Without `stale` the source has no answer.
             * @example timeout
             * @enum {string}
             */
            error?: "timeout" | "unavailable" | "circuit-open" | "rejected" | "quota-exhausted" | "bad-response" | "internal-error";
            /**
             * @description The provider failed now; this is its answer from the address's latest snapshot.
             * @example true
             */
            stale?: boolean;
        };
        Liveness: {
            /**
             * @example ok
             * @enum {string}
             */
            status: "ok";
        };
        Login: {
            /**
             * Format: email
             * @description NFKC-normalised, trimmed and lower-cased before use (look-alike spellings are one account); invisible or format characters (Unicode Cc, Cf) are refused.
             * @example ada@example.com
             */
            email: string;
            /**
             * Format: password
             * @example correct horse battery staple
             */
            password: string;
        };
        MeResponse: {
            /**
             * Format: uuid
             * @example 0b6f1d1e-4c1a-4a57-9d0e-2f3c4b5a6d7e
             */
            id: string;
            /**
             * @description Null for an identity-provider account whose provider has not verified an email it could claim.
             * @example ada@example.com
             */
            email: string | null;
            /**
             * @example user
             * @enum {string}
             */
            role: "user" | "admin";
            /**
             * Format: date-time
             * @example 2026-01-31T12:00:00.000Z
             */
            createdAt: string;
            usage: components["schemas"]["Usage"];
        };
        /** @description RFC 9457 problem details. `type` names the failure (`urn:argus:problem:<slug>`, listed in docs/api.md); `requestId` is also the X-Request-ID response header and is in every log line of the request. */
        Problem: {
            /**
             * Format: uri
             * @example urn:argus:problem:validation-failed
             */
            type: string;
            /**
             * @description The HTTP status text.
             * @example Bad Request
             */
            title: string;
            /**
             * Format: int32
             * @example 400
             */
            status: number;
            /**
             * @description What went wrong, for a human; never internals (stack, SQL, paths, upstream messages).
             * @example The request has invalid fields.
             */
            detail: string;
            /**
             * Format: uri-reference
             * @description The request path (without the query).
             * @example /v1/auth/register
             */
            instance: string;
            /** @example 0b6f1d1e-4c1a-4a57-9d0e-2f3c4b5a6d7e */
            requestId: string;
            /** @description Validation failures only: one entry per broken rule. */
            errors?: {
                /**
                 * @description The field, dotted for nested ones (`ips.3`, `metadata.album`).
                 * @example password
                 */
                field: string;
                /** @example password must be 12 to 128 characters long */
                message: string;
            }[];
        };
        ProviderKey: {
            /** @example abuseipdb */
            provider: string;
            /**
             * @description Position in the configured key list (1-based).
             * @example 1
             */
            position: number;
            /**
             * @description Masked: the last 4 characters only.
             * @example …cdef
             */
            key: string;
            /**
             * @example active
             * @enum {string}
             */
            state: "active" | "benched" | "expiring";
            /** Format: date-time */
            benchedUntil: string | null;
            /** @enum {string|null} */
            benchedBecause: "rejected" | "quota-exhausted" | "rate-limited" | null;
            /**
             * Format: date-time
             * @description <PROVIDER>_API_KEY_EXPIRES_AT.
             */
            expiresAt: string | null;
            /**
             * Format: int64
             * @description As the provider last reported it.
             */
            remainingQuota: number | null;
        };
        Providers: {
            items: components["schemas"]["ProviderKey"][];
        };
        RefreshToken: {
            /**
             * @description The opaque refresh token from register, login or refresh.
             * @example c2lnbmVkLW9wYXF1ZS1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDAwMA
             */
            refreshToken: string;
        };
        Register: {
            /**
             * Format: email
             * @description NFKC-normalised, trimmed and lower-cased before use (look-alike spellings are one account); invisible or format characters (Unicode Cc, Cf) are refused.
             * @example ada@example.com
             */
            email: string;
            /**
             * Format: password
             * @description 12–128 characters; every character counts (no 72-byte truncation).
             * @example correct horse battery staple
             */
            password: string;
        };
        TestDelivery: {
            /**
             * Format: uuid
             * @description The queued delivery; also its `webhook-id`.
             */
            deliveryId: string;
        };
        UpdateUser: {
            /**
             * @description The account's role; a change ends its current access tokens.
             * @enum {string}
             */
            role?: "user" | "admin";
            /** @description Upstream AI analyses a UTC day for this account, instead of AI_DAILY_LIMIT_PER_USER; null removes it. */
            dailyLimit?: number | null;
            /** @description true stops every token of the account at once and refuses sign-in; false lets it sign in again. */
            disabled?: boolean;
        };
        Usage: {
            /**
             * @description Upstream AI analyses counted today (UTC).
             * @example 3
             */
            analysesToday: number;
            /**
             * @description AI_DAILY_LIMIT_PER_USER, or the account's own limit set by an admin.
             * @example 100
             */
            dailyLimit: number;
        };
        User: {
            /**
             * Format: uuid
             * @example 0b6f1d1e-4c1a-4a57-9d0e-2f3c4b5a6d7e
             */
            id: string;
            /**
             * @description Null for an identity-provider account whose provider has not verified an email it could claim.
             * @example ada@example.com
             */
            email: string | null;
            /**
             * @example user
             * @enum {string}
             */
            role: "user" | "admin";
            /**
             * Format: date-time
             * @example 2026-01-31T12:00:00.000Z
             */
            createdAt: string;
        };
        Webhook: {
            /**
             * Format: uuid
             * @example 5d1c1f5e-9a0b-4c53-8a39-0f6d2f3e7b11
             */
            id: string;
            /** @example https://hooks.example.com/argus */
            url: string;
            /**
             * @example [
             *       "analysis.succeeded"
             *     ]
             */
            events: ("analysis.succeeded" | "analysis.failed" | "ip.verdict_changed")[];
            /** @example Production callback */
            description: string | null;
            /**
             * Format: date-time
             * @description Set when every delivery failed for 24 h; a disabled endpoint gets no more deliveries.
             * @example null
             */
            disabledAt: string | null;
            /**
             * Format: date-time
             * @example 2030-06-01T12:00:00.000Z
             */
            createdAt: string;
        };
        WebhookDelivery: {
            /**
             * Format: uuid
             * @description Also the `webhook-id` header of every attempt of this delivery.
             */
            id: string;
            /**
             * @example analysis.succeeded
             * @enum {string}
             */
            event: "analysis.succeeded" | "analysis.failed" | "ip.verdict_changed" | "webhook.test";
            /**
             * @example pending
             * @enum {string}
             */
            status: "pending" | "succeeded" | "failed";
            /**
             * @description Attempts made so far.
             * @example 2
             */
            attempts: number;
            /**
             * @description HTTP status of the last answer.
             * @example 500
             */
            lastStatusCode: number | null;
            /**
             * @description Why the last attempt failed.
             * @example HTTP 500
             */
            lastError: string | null;
            /**
             * Format: date-time
             * @description Null once succeeded or failed.
             */
            nextAttemptAt: string | null;
            /** Format: date-time */
            createdAt: string;
        };
        WebhookDeliveryPage: {
            /** @description Newest first. */
            items: components["schemas"]["WebhookDelivery"][];
            /** @description Pass as `cursor` for the next page; null on the last page. */
            nextCursor: string | null;
        };
        WebhookList: {
            /** @description Your endpoints, oldest first. Secrets are never listed. */
            items: components["schemas"]["Webhook"][];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: {
        /** @description Only when the request’s Origin is listed in ALLOWED_ORIGINS (that origin, echoed); absent otherwise. */
        "Access-Control-Allow-Origin": string;
        /** @description Whole seconds to wait before retrying (a daily quota: until midnight UTC). */
        "Retry-After": number;
        /** @description The scheme to authenticate with. */
        "WWW-Authenticate": "Bearer";
        /** @description Requests allowed per minute by the per-client-address limit of every /v1 route. On a 429, only the refusing limit's headers are sent. */
        "X-RateLimit-Limit": number;
        /** @description Requests allowed per minute by the `analysis` limit. On a 429, only the refusing limit's headers are sent. */
        "X-RateLimit-Limit-analysis": number;
        /** @description Requests allowed per minute by the `auth` limit. On a 429, only the refusing limit's headers are sent. */
        "X-RateLimit-Limit-auth": number;
        /** @description Requests allowed per minute by the `ip` limit. On a 429, only the refusing limit's headers are sent. */
        "X-RateLimit-Limit-ip": number;
        /** @description Requests left in the current window of the per-client-address limit of every /v1 route. */
        "X-RateLimit-Remaining": number;
        /** @description Requests left in the current window of the `analysis` limit. */
        "X-RateLimit-Remaining-analysis": number;
        /** @description Requests left in the current window of the `auth` limit. */
        "X-RateLimit-Remaining-auth": number;
        /** @description Requests left in the current window of the `ip` limit. */
        "X-RateLimit-Remaining-ip": number;
        /** @description Seconds until the window of the per-client-address limit of every /v1 route frees a request. */
        "X-RateLimit-Reset": number;
        /** @description Seconds until the window of the `analysis` limit frees a request. */
        "X-RateLimit-Reset-analysis": number;
        /** @description Seconds until the window of the `auth` limit frees a request. */
        "X-RateLimit-Reset-auth": number;
        /** @description Seconds until the window of the `ip` limit frees a request. */
        "X-RateLimit-Reset-ip": number;
        /** @description The request’s correlation id: the X-Request-ID sent when it was valid, else a new UUID. */
        "X-Request-ID": string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process can serve. */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Liveness"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Health Check is successful */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @example ok */
                        status?: string;
                        /**
                         * @example {
                         *       "database": {
                         *         "status": "up"
                         *       }
                         *     }
                         */
                        info?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        /** @example {} */
                        error?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        /**
                         * @example {
                         *       "database": {
                         *         "status": "up"
                         *       }
                         *     }
                         */
                        details?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The Health Check is not successful */
            503: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @example error */
                        status?: string;
                        /**
                         * @example {
                         *       "database": {
                         *         "status": "up"
                         *       }
                         *     }
                         */
                        info?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        /**
                         * @example {
                         *       "redis": {
                         *         "status": "down",
                         *         "message": "Could not connect"
                         *       }
                         *     }
                         */
                        error?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        } | null;
                        /**
                         * @example {
                         *       "database": {
                         *         "status": "up"
                         *       },
                         *       "redis": {
                         *         "status": "down",
                         *         "message": "Could not connect"
                         *       }
                         *     }
                         */
                        details?: {
                            [key: string]: {
                                status: string;
                            } & {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
            };
        };
    };
    listIpAllowlist: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Allowlist"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found — also the answer to anyone without the admin role. */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    addIpAllowlistEntry: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateAllowlistEntry"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AllowlistEntry"];
                };
            };
            /** @description Not a CIDR / address / AS<number>, or expiresAt not in the future. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found — also the answer to anyone without the admin role. */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteIpAllowlistEntry: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The allowlist entry id.
                 * @example 6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed. */
            204: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input (`…validation-failed`): `errors` lists each field and what is wrong with it. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found — also the answer to anyone without the admin role. */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listIpFeeds: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IpFeeds"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found — also the answer to anyone without the admin role. */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteIpReport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The report id.
                 * @example 6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input (`…validation-failed`): `errors` lists each field and what is wrong with it. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found — also the answer to anyone without the admin role. */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listProviderKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Providers"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found — also the answer to anyone without the admin role. */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    updateUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The account id.
                 * @example 0b6f1d1e-4c1a-4a57-9d0e-2f3c4b5a6d7e
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateUser"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminUser"];
                };
            };
            /** @description Invalid id or body: problem+json with `errors: [{ field, message }]`. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not found — also the answer to anyone without the admin role. */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listAnalyses: {
        parameters: {
            query?: {
                /** @example 20 */
                limit?: number;
                /**
                 * @description `nextCursor` of the previous page (opaque).
                 * @example MTkwNjk4MTIwMDAwMC4wYjdlNGYwZS02YTUzLTRjMWUtOWE1Ny0zZjFmOGYwZjJkMTE
                 */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AnalysisPage"];
                };
            };
            /** @description Invalid input: problem+json, with `errors: [{ field, message }]` for fields. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createAnalysis: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description `respond-async` (202 at once) and/or `wait=N` (seconds to wait, ≤ 60). Malformed values are ignored.
                 * @example respond-async
                 */
                Prefer?: string;
                /**
                 * @description Makes a retry safe for 24 hours, per user. A retry with the same key and the same request (method, path, body) gets the first response again (same status and body, `Idempotent-Replayed: true`) and changes nothing. Responses the operation decided (2xx, and 4xx other than 401/403/408/409/425/429) are kept; validation failures, 429s and 5xx are not, so a retry with the same key runs again.
                 * @example 6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description The image; at most MAX_FILE_SIZE_MB (default 10 MB).
                     */
                    file: Blob;
                    /**
                     * @description What to look for (optional). Quoted to the model as data, never as instructions.
                     * @example Is there a bicycle, and what colour is it?
                     */
                    prompt?: string;
                    /**
                     * @description Optional JSON object as a string (≤ 4 KiB, ≤ 32 keys ^[a-zA-Z0-9_.-]{1,64}$, values string ≤ 512 / number / boolean). Stored and echoed back; never sent to the model.
                     * @example {"album":"holidays-2030","favourite":true}
                     */
                    metadata?: string;
                };
            };
        };
        responses: {
            /** @description Answered (status `succeeded`). */
            201: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    /** @description Where the analysis is: `/v1/analyses/{id}`. */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analysis"];
                };
            };
            /** @description Accepted, not answered yet (status `queued` or `running`): poll the Location. */
            202: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    /** @description Where the analysis is: `/v1/analyses/{id}`. */
                    Location?: string;
                    /** @description `respond-async` when it was asked for. */
                    "Preference-Applied"?: "respond-async";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analysis"];
                };
            };
            /** @description `Idempotency-Key` is not 1–255 visible ASCII characters. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still being served (type …idempotency-key-in-flight); retry after Retry-After to get its response. */
            409: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The file is larger than MAX_FILE_SIZE_MB (decided while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The bytes are not a supported image (SVG, PDF, text, TIFF, …). */
            415: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /**
             * @description More than MAX_IMAGE_PIXELS pixels, or a corrupt image.
             *
             *     This Idempotency-Key was used for a different request (type …idempotency-key-reused).
             */
            422: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description ANALYSIS_RATE_LIMIT_PER_MINUTE (type …rate-limited) or AI_DAILY_LIMIT_PER_USER (type …quota-exceeded, Retry-After until midnight UTC) exceeded. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The AI provider failed, or answered in the wrong format twice. */
            502: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /**
             * @description The AI provider’s circuit is open; see Retry-After.
             *
             *     Idempotency keys cannot be checked right now (type …idempotency-unavailable); nothing ran.
             */
            503: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The AI provider did not answer within OPENAI_TIMEOUT_MS (after retries). */
            504: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createAnalysisBatch: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes a retry safe for 24 hours, per user. A retry with the same key and the same request (method, path, body) gets the first response again (same status and body, `Idempotent-Replayed: true`) and changes nothing. Responses the operation decided (2xx, and 4xx other than 401/403/408/409/425/429) are kept; validation failures, 429s and 5xx are not, so a retry with the same key runs again.
                 * @example 6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /** @description The images (at most BATCH_MAX_FILES, default 20), each at most MAX_FILE_SIZE_MB. */
                    files: Blob[];
                    /**
                     * @description What to look for (optional). Quoted to the model as data, never as instructions.
                     * @example Is there a bicycle, and what colour is it?
                     */
                    prompt?: string;
                    /**
                     * @description Optional JSON object as a string (≤ 4 KiB, ≤ 32 keys ^[a-zA-Z0-9_.-]{1,64}$, values string ≤ 512 / number / boolean). Stored and echoed back; never sent to the model.
                     * @example {"album":"holidays-2030","favourite":true}
                     */
                    metadata?: string;
                };
            };
        };
        responses: {
            /** @description Accepted */
            202: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BatchReply"];
                };
            };
            /** @description `Idempotency-Key` is not 1–255 visible ASCII characters. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still being served (type …idempotency-key-in-flight); retry after Retry-After to get its response. */
            409: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than BATCH_MAX_FILES files of MAX_FILE_SIZE_MB. */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This Idempotency-Key was used for a different request (type …idempotency-key-reused). */
            422: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The batch needs more analyses than ANALYSIS_RATE_LIMIT_PER_MINUTE leaves. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Idempotency keys cannot be checked right now (type …idempotency-unavailable); nothing ran. */
            503: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getAnalysis: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description `wait=N`: wait up to N seconds (≤ 60) for the job to finish.
                 * @example wait=30
                 */
                Prefer?: string;
            };
            path: {
                /**
                 * @description The analysis id (any case).
                 * @example 0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Analysis"];
                };
            };
            /** @description Invalid input: problem+json, with `errors: [{ field, message }]` for fields. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No analysis with this id belongs to the caller (another user’s analysis is also 404). */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteAnalysis: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The analysis id (any case).
                 * @example 0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: problem+json, with `errors: [{ field, message }]` for fields. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No analysis with this id belongs to the caller (another user’s analysis is also 404). */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getAnalysisImage: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The analysis id (any case).
                 * @example 0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The stored image. */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "image/jpeg": Blob;
                    "image/webp": Blob;
                };
            };
            /** @description Invalid input: problem+json, with `errors: [{ field, message }]` for fields. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    "X-RateLimit-Limit-analysis": components["headers"]["X-RateLimit-Limit-analysis"];
                    "X-RateLimit-Remaining-analysis": components["headers"]["X-RateLimit-Remaining-analysis"];
                    "X-RateLimit-Reset-analysis": components["headers"]["X-RateLimit-Reset-analysis"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No analysis with this id belongs to the caller (another user’s analysis is also 404). */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Login"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthResponse"];
                };
            };
            /** @description Invalid body: problem+json with `errors: [{ field, message }]`. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Invalid email or password (one answer for both). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description AUTH_RATE_LIMIT_PER_MINUTE exceeded for this client IP (Retry-After). */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshToken"];
            };
        };
        responses: {
            /** @description Revoked (the refresh token also when it was unknown or not yours). */
            204: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid body: problem+json with `errors: [{ field, message }]`. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    logoutAll: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every session signed out. */
            204: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid body: problem+json with `errors: [{ field, message }]`. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MeResponse"];
                };
            };
            /** @description Invalid body: problem+json with `errors: [{ field, message }]`. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    refreshTokens: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshToken"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthResponse"];
                };
            };
            /** @description Invalid body: problem+json with `errors: [{ field, message }]`. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The refresh token is invalid, expired, spent or revoked. */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    register: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Register"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthResponse"];
                };
            };
            /** @description Invalid body: problem+json with `errors: [{ field, message }]`. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description An account with this email already exists. */
            409: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description AUTH_RATE_LIMIT_PER_MINUTE exceeded for this client IP (Retry-After). */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-auth": components["headers"]["X-RateLimit-Limit-auth"];
                    "X-RateLimit-Remaining-auth": components["headers"]["X-RateLimit-Remaining-auth"];
                    "X-RateLimit-Reset-auth": components["headers"]["X-RateLimit-Reset-auth"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    lookupIps: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["IpBulkLookup"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IpBulkLookupResult"];
                };
            };
            /** @description Invalid body (not 1–100 strings, unknown fields). */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description IP_RATE_LIMIT_PER_MINUTE exceeded for this user (Retry-After). */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getIpRange: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description An address, `/`, a prefix length; the slash URL-encoded: `45.12.7.0%2F24`.
                 * @example 45.12.7.0/24
                 */
                cidr: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IpRange"];
                };
            };
            /** @description Not a CIDR, wider than /24 (IPv4) or /48 (IPv6), or not public space. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description IP_RATE_LIMIT_PER_MINUTE exceeded for this user (Retry-After). */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getIpReputation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description IPv4 (dotted decimal, no leading zeros, e.g. `118.25.6.39`) or IPv6 (`2001:4860:4860::8888`; IPv4-mapped `::ffff:118.25.6.39` is read as IPv4). CIDR ranges, zone ids and ambiguous forms are refused with 400.
                 * @example 118.25.6.39
                 */
                address: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IpReputation"];
                };
            };
            /** @description Not a valid IP address (malformed, zero-padded, CIDR, too long). */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description IP_RATE_LIMIT_PER_MINUTE exceeded for this user (Retry-After). */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getIpHistory: {
        parameters: {
            query?: {
                /** @example 20 */
                limit?: number;
            };
            header?: never;
            path: {
                /**
                 * @description IPv4 (dotted decimal, no leading zeros, e.g. `118.25.6.39`) or IPv6 (`2001:4860:4860::8888`; IPv4-mapped `::ffff:118.25.6.39` is read as IPv4). CIDR ranges, zone ids and ambiguous forms are refused with 400.
                 * @example 118.25.6.39
                 */
                address: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IpHistory"];
                };
            };
            /** @description Not a valid IP address, or `limit` outside 1–100. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description IP_RATE_LIMIT_PER_MINUTE exceeded for this user (Retry-After). */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    reportIp: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes a retry safe for 24 hours, per user. A retry with the same key and the same request (method, path, body) gets the first response again (same status and body, `Idempotent-Replayed: true`) and changes nothing. Responses the operation decided (2xx, and 4xx other than 401/403/408/409/425/429) are kept; validation failures, 429s and 5xx are not, so a retry with the same key runs again.
                 * @example 6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b
                 */
                "Idempotency-Key"?: string;
            };
            path: {
                /**
                 * @description IPv4 (dotted decimal, no leading zeros, e.g. `118.25.6.39`) or IPv6 (`2001:4860:4860::8888`; IPv4-mapped `::ffff:118.25.6.39` is read as IPv4). CIDR ranges, zone ids and ambiguous forms are refused with 400.
                 * @example 118.25.6.39
                 */
                address: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateIpReport"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IpReport"];
                };
            };
            /**
             * @description Invalid body, not a valid IP address, or not a public address.
             *
             *     `Idempotency-Key` is not 1–255 visible ASCII characters.
             */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still being served (type …idempotency-key-in-flight); retry after Retry-After to get its response. */
            409: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This Idempotency-Key was used for a different request (type …idempotency-key-reused). */
            422: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description IP_RATE_LIMIT_PER_MINUTE exceeded for this user (Retry-After). */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "X-RateLimit-Limit-ip": components["headers"]["X-RateLimit-Limit-ip"];
                    "X-RateLimit-Remaining-ip": components["headers"]["X-RateLimit-Remaining-ip"];
                    "X-RateLimit-Reset-ip": components["headers"]["X-RateLimit-Reset-ip"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Idempotency keys cannot be checked right now (type …idempotency-unavailable); nothing ran. */
            503: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listWebhooks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookList"];
                };
            };
            /** @description Invalid input: problem+json, with `errors: [{ field, message }]` for fields. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createWebhook: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Makes a retry safe for 24 hours, per user. A retry with the same key and the same request (method, path, body) gets the first response again (same status and body, `Idempotent-Replayed: true`) and changes nothing. Responses the operation decided (2xx, and 4xx other than 401/403/408/409/425/429) are kept; validation failures, 429s and 5xx are not, so a retry with the same key runs again.
                 * @example 6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b
                 */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateWebhook"];
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreatedWebhook"];
                };
            };
            /** @description `Idempotency-Key` is not 1–255 visible ASCII characters. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The first request with this Idempotency-Key is still being served (type …idempotency-key-in-flight); retry after Retry-After to get its response. */
            409: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The body is larger than the limit (decided from Content-Length or while streaming). */
            413: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description This Idempotency-Key was used for a different request (type …idempotency-key-reused). */
            422: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Idempotency keys cannot be checked right now (type …idempotency-unavailable); nothing ran. */
            503: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The webhook endpoint id.
                 * @example 5d1c1f5e-9a0b-4c53-8a39-0f6d2f3e7b11
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Invalid input: problem+json, with `errors: [{ field, message }]` for fields. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No webhook endpoint with this id belongs to the caller (another user’s is also 404). */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query?: {
                /** @example 20 */
                limit?: number;
                /**
                 * @description `nextCursor` of the previous page (opaque).
                 * @example MTkwNjk4MTIwMDAwMC41ZDFjMWY1ZS05YTBiLTRjNTMtOGEzOS0wZjZkMmYzZTdiMTE
                 */
                cursor?: string;
            };
            header?: never;
            path: {
                /**
                 * @description The webhook endpoint id.
                 * @example 5d1c1f5e-9a0b-4c53-8a39-0f6d2f3e7b11
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDeliveryPage"];
                };
            };
            /** @description Invalid input: problem+json, with `errors: [{ field, message }]` for fields. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No webhook endpoint with this id belongs to the caller (another user’s is also 404). */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    testWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The webhook endpoint id.
                 * @example 5d1c1f5e-9a0b-4c53-8a39-0f6d2f3e7b11
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted */
            202: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TestDelivery"];
                };
            };
            /** @description Invalid input: problem+json, with `errors: [{ field, message }]` for fields. */
            400: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`). */
            401: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "WWW-Authenticate": components["headers"]["WWW-Authenticate"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No webhook endpoint with this id belongs to the caller (another user’s is also 404). */
            404: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The endpoint is disabled (every delivery failed for 24 h). */
            409: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds. */
            429: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    "X-RateLimit-Limit": components["headers"]["X-RateLimit-Limit"];
                    "X-RateLimit-Remaining": components["headers"]["X-RateLimit-Remaining"];
                    "X-RateLimit-Reset": components["headers"]["X-RateLimit-Reset"];
                    "Retry-After": components["headers"]["Retry-After"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unexpected failure: a problem without internals, logged and reported with its requestId. */
            500: {
                headers: {
                    "X-Request-ID": components["headers"]["X-Request-ID"];
                    "Access-Control-Allow-Origin": components["headers"]["Access-Control-Allow-Origin"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
}
