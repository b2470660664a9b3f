"""(f) of `npm run bench`: the work of Argus's cached GET /v1/ip/:address, written as a FastAPI user
would write it, so the bench can say what the Node stack costs against a Python peer.

Per request: a pure ASGI middleware reuses or makes an X-Request-ID, returns it, and writes one JSON
log line to a file; the route verifies an HS256 bearer token with the same claims as Argus's (sub,
iat, exp, iss, aud, jti — algorithm pinned), counts the client address in an in-memory per-minute
limit (X-RateLimit-* headers, 429 when over), reads the cached record from Redis and returns it.

Run by bench/http-stack.bench.ts with Debian's python3-fastapi, python3-uvicorn, python3-jwt,
python3-redis (and python3-uvloop, python3-httptools where available). Environment: PORT,
REDIS_URL, REDIS_KEY (the cached record), JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, LOG_FILE,
RATE_LIMIT_PER_MINUTE.
"""

import json
import os
import re
import time
import uuid

import jwt
import redis.asyncio as aioredis
import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SECRET = os.environ["JWT_SECRET"]
ISSUER = os.environ.get("JWT_ISSUER", "argus")
AUDIENCE = os.environ.get("JWT_AUDIENCE", "argus-api")
REDIS_KEY = os.environ["REDIS_KEY"]
LIMIT = int(os.environ.get("RATE_LIMIT_PER_MINUTE", "1000000"))
WINDOW_S = 60


class RequestIdAndLog:
    """Pure ASGI middleware: the correlation id on the response and one JSON line per request."""

    def __init__(self, app, log_file):
        self.app = app
        self.log = open(log_file, "a", buffering=1)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = given if given and REQUEST_ID.match(given) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + [(b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.log.write(
                json.dumps(
                    {
                        "level": 30,
                        "time": int(time.time() * 1000),
                        "msg": "request completed",
                        "requestId": request_id,
                        "method": scope["method"],
                        "url": scope["path"],
                        "statusCode": status,
                        "responseTime": round((time.perf_counter() - started) * 1000, 3),
                    }
                )
                + "\n"
            )


class PerMinuteLimit:
    """A fixed one-minute window per client address, in memory."""

    def __init__(self, limit):
        self.limit = limit
        self.counts = {}

    def hit(self, client):
        window = int(time.time()) // WINDOW_S
        stored = self.counts.get(client)
        count = stored[1] + 1 if stored and stored[0] == window else 1
        self.counts[client] = (window, count)
        reset = WINDOW_S - int(time.time()) % WINDOW_S
        return count <= self.limit, max(0, self.limit - count), reset


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
cache = aioredis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
limits = PerMinuteLimit(LIMIT)


def verify(authorization):
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(status_code=401, detail="A valid access token is required.")
    try:
        claims = jwt.decode(
            authorization[7:],
            SECRET,
            algorithms=["HS256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["sub", "iat", "exp", "iss", "aud", "jti"]},
        )
    except jwt.PyJWTError:
        raise HTTPException(status_code=401, detail="A valid access token is required.")
    return claims["sub"]


@app.get("/v1/ip/{address}")
async def lookup(address: str, request: Request, response: Response):
    allowed, remaining, reset = limits.hit(request.client.host)
    headers = {"X-RateLimit-Limit": str(LIMIT), "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(reset)}
    if not allowed:
        raise HTTPException(status_code=429, detail="Too many requests.", headers={**headers, "Retry-After": str(reset)})
    verify(request.headers.get("authorization"))
    record = await cache.get(REDIS_KEY)
    if record is None:
        raise HTTPException(status_code=404, detail="Not cached.")
    return Response(content=record, media_type="application/json", headers=headers)


if __name__ == "__main__":
    config = {"host": "127.0.0.1", "port": int(os.environ["PORT"]), "access_log": False, "log_level": "warning"}
    try:
        import uvloop  # noqa: F401
        import httptools  # noqa: F401

        config.update(loop="uvloop", http="httptools")
    except ImportError:
        pass
    uvicorn.run(RequestIdAndLog(app, os.environ["LOG_FILE"]), **config)
