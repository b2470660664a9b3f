import type { Request } from 'express';
import {
  canonicalJson,
  fingerprintOf,
  FingerprintParts,
  requestFingerprint,
  uploadedFiles,
} from './request-fingerprint';

const BASE: FingerprintParts = {
  method: 'POST',
  path: '/v1/ip/45.33.0.1/reports',
  body: { categories: [18, 22], comment: 'ssh brute force' },
  files: [],
};

describe('requestFingerprint', () => {
  it('is a sha256 in hex', () => {
    expect(requestFingerprint(BASE)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for the same request, whatever the order of object keys', () => {
    const reordered = { ...BASE, body: { comment: 'ssh brute force', categories: [18, 22] } };

    expect(requestFingerprint(reordered)).toBe(requestFingerprint(BASE));
  });

  it('does not depend on the case of the method', () => {
    expect(requestFingerprint({ ...BASE, method: 'post' })).toBe(requestFingerprint(BASE));
  });

  it.each<[string, Partial<FingerprintParts>]>([
    ['another method', { method: 'PUT' }],
    ['another path parameter', { path: '/v1/ip/45.33.0.2/reports' }],
    ['another body value', { body: { categories: [18, 22], comment: 'ssh brute-force' } }],
    ['another array order', { body: { categories: [22, 18], comment: 'ssh brute force' } }],
    ['a value of another type', { body: { categories: ['18', 22], comment: 'ssh brute force' } }],
    ['an extra field', { body: { ...(BASE.body as object), extra: null } }],
    ['a missing field', { body: { categories: [18, 22] } }],
    ['a file', { files: [Buffer.from('image')] }],
  ])('differs for %s', (_name, change) => {
    expect(requestFingerprint({ ...BASE, ...change })).not.toBe(requestFingerprint(BASE));
  });

  it('tells uploads apart by their bytes, and in their order', () => {
    const a = Buffer.from('first image');
    const b = Buffer.from('second image');
    const upload = (files: Buffer[]) => requestFingerprint({ ...BASE, path: '/v1/analyses', body: {}, files });

    expect(upload([a])).toBe(upload([Buffer.from('first image')]));
    expect(upload([a])).not.toBe(upload([b]));
    expect(upload([a, b])).not.toBe(upload([b, a]));
  });

  it('treats a missing body like a null one, not like an empty object', () => {
    expect(requestFingerprint({ ...BASE, body: undefined })).toBe(requestFingerprint({ ...BASE, body: null }));
    expect(requestFingerprint({ ...BASE, body: undefined })).not.toBe(requestFingerprint({ ...BASE, body: {} }));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 2 } })).toBe(
      '{"a":{"c":2,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('reads objects without a prototype (multer text fields)', () => {
    const fields = Object.assign(Object.create(null) as Record<string, string>, { prompt: 'cats', metadata: '{}' });

    expect(canonicalJson(fields)).toBe('{"metadata":"{}","prompt":"cats"}');
  });

  it('keeps a "__proto__" key as data, as JSON.parse gives it', () => {
    const parsed = JSON.parse('{"b":1,"__proto__":{"admin":true}}') as unknown;

    expect(canonicalJson(parsed)).toBe('{"__proto__":{"admin":true},"b":1}');
  });
});

describe('uploadedFiles / fingerprintOf', () => {
  function request(fields: Partial<Request> & Record<PropertyKey, unknown>): Request {
    return { method: 'POST', originalUrl: '/v1/analyses', body: {}, ...fields } as unknown as Request;
  }

  it("reads multer's req.file and req.files (array and by field)", () => {
    const one = Buffer.from('one');
    const two = Buffer.from('two');

    expect(uploadedFiles(request({ file: { buffer: one } as Express.Multer.File }))).toEqual([one]);
    expect(uploadedFiles(request({ files: [{ buffer: one }, { buffer: two }] as Express.Multer.File[] }))).toEqual([
      one,
      two,
    ]);
    expect(uploadedFiles(request({ files: { a: [{ buffer: one }], b: [{ buffer: two }] } as never }))).toEqual([
      one,
      two,
    ]);
  });

  it('reads an upload a room keeps under a symbol, and no other symbol-keyed property', () => {
    const bytes = Buffer.from('image bytes');
    class Upload {
      constructor(private readonly data: Buffer) {}
      get bytes(): Buffer {
        return this.data;
      }
    }
    const sut = uploadedFiles(
      request({
        [Symbol('imageUpload')]: new Upload(bytes),
        [Symbol('kHeaders')]: { buffer: Buffer.from('internal') },
      }),
    );

    expect(sut).toEqual([bytes]);
  });

  it("reads a batch's uploads in order, a refused part keeping its place", () => {
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    const upload = (data: Buffer) => ({ upload: { bytes: data } });
    const batch = (...items: object[]) => uploadedFiles(request({ [Symbol('batchUpload')]: items }));

    expect(batch(upload(a), upload(b))).toEqual([a, b]);
    expect(batch({ error: new Error('too large') }, upload(b))).toEqual([Buffer.alloc(0), b]);
    expect(batch(upload(b), { error: new Error('too large') })).toEqual([b, Buffer.alloc(0)]);
  });

  it('fingerprints the path without its query string', () => {
    const plain = fingerprintOf(request({ originalUrl: '/v1/analyses' }));

    expect(fingerprintOf(request({ originalUrl: '/v1/analyses?utm=1' }))).toBe(plain);
    expect(fingerprintOf(request({ originalUrl: '/v1/analyses/batch' }))).not.toBe(plain);
  });
});
