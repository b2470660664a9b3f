import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { imageObjectKey, StoredImageRef } from './image-store';
import { LocalImageStore } from './local-image.store';

function refFor(content: string, format: StoredImageRef['format'] = 'jpeg'): StoredImageRef {
  return { sha256: createHash('sha256').update(content).digest('hex'), format };
}

/** Every file under `dir`, relative, recursively. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

beforeAll(() => Logger.overrideLogger(false));

describe('LocalImageStore', () => {
  let root: string;
  let sut: LocalImageStore;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'argus-store-'));
    sut = new LocalImageStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes the image under a sharded path named by its sha256 and extension, with no temp file left', async () => {
    const ref = refFor('image one');

    await expect(sut.put(ref, Buffer.from('image one'))).resolves.toBe(true);

    const expected = `${ref.sha256.slice(0, 2)}/${ref.sha256.slice(2, 4)}/${ref.sha256}.jpg`;
    expect(listFiles(root)).toEqual([expected]);
    await expect(readFile(join(root, expected), 'utf8')).resolves.toBe('image one');
  });

  it('reads back a stored image as a stream with its content type and size', async () => {
    const ref = refFor('webp bytes', 'webp');
    await sut.put(ref, Buffer.from('webp bytes'));

    const stored = await sut.get(ref);

    expect(stored).toMatchObject({ contentType: 'image/webp', size: 10 });
    await expect(text(stored!.stream)).resolves.toBe('webp bytes');
  });

  it('keeps the existing file when the same image is put again', async () => {
    const ref = refFor('same');
    await sut.put(ref, Buffer.from('same'));
    const path = join(root, imageObjectKey(ref));
    const before = statSync(path).mtimeMs;

    await expect(sut.put(ref, Buffer.from('same'))).resolves.toBe(false);

    expect(statSync(path).mtimeMs).toBe(before);
  });

  it('stores concurrent puts of one image once and leaves no temporary files', async () => {
    const ref = refFor('raced');

    await Promise.all(Array.from({ length: 8 }, () => sut.put(ref, Buffer.from('raced'))));

    expect(listFiles(root)).toEqual([imageObjectKey(ref)]);
  });

  it('answers undefined / false for a missing image', async () => {
    const ref = refFor('missing');

    await expect(sut.get(ref)).resolves.toBeUndefined();
    await expect(sut.exists(ref)).resolves.toBe(false);
  });

  it('deletes an image, and deleting a missing one is a no-op', async () => {
    const ref = refFor('to delete');
    await sut.put(ref, Buffer.from('to delete'));

    await sut.delete(ref);
    await sut.delete(ref);

    await expect(sut.exists(ref)).resolves.toBe(false);
  });

  it('tells formats apart: the same hash as JPEG and WebP are two files', async () => {
    const jpeg = refFor('x', 'jpeg');
    const webp = { ...jpeg, format: 'webp' as const };
    await sut.put(jpeg, Buffer.from('j'));

    await expect(sut.exists(webp)).resolves.toBe(false);
  });

  it('never treats a directory or a partial temp file as an image', async () => {
    const ref = refFor('partial');
    const path = join(root, imageObjectKey(ref));
    await sut.put(refFor('neighbour'), Buffer.from('n'));
    writeFileSync(join(root, `${ref.sha256}.jpg.abc.tmp`), 'half');

    await expect(sut.exists(ref)).resolves.toBe(false);
    expect(path.startsWith(root)).toBe(true);
  });

  it.each([
    ['a path traversal', '../../etc/passwd'],
    ['upper-case hex', 'A'.repeat(64)],
    ['a short hash', 'ab'],
  ])('refuses %s as a key', async (_name, sha256) => {
    await expect(sut.put({ sha256, format: 'jpeg' }, Buffer.from('x'))).rejects.toThrow(RangeError);
    await expect(sut.get({ sha256, format: 'jpeg' })).rejects.toThrow(RangeError);
  });
});
