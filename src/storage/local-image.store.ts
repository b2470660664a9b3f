import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createReadStream, Stats } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { contentTypeOf, ImageStore, imageObjectKey, StoredImage, StoredImageRef } from './image-store';

/**
 * Images as files under one directory (`DATA_DIR/images` by default): `ab/cd/<sha256>.<ext>`.
 * A file appears whole or not at all: it is written to a temporary name in the same directory,
 * flushed, then renamed into place (atomic on POSIX file systems), so a crash or a concurrent
 * reader never sees half an image.
 */
export class LocalImageStore implements ImageStore {
  readonly driver = 'local';
  private readonly logger = new Logger(LocalImageStore.name);
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(ref: StoredImageRef, data: Buffer): Promise<boolean> {
    const path = this.pathOf(ref);
    if (await this.exists(ref)) return false;
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const file = await open(temporary, 'wx', 0o640);
      try {
        await file.writeFile(data);
        await file.sync();
      } finally {
        await file.close();
      }
      // Two writers of one sha256 write identical bytes: whichever rename lands last wins, harmlessly.
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    this.logger.debug({ msg: 'image stored', driver: this.driver, sha256: ref.sha256, bytes: data.length });
    return true;
  }

  async get(ref: StoredImageRef): Promise<StoredImage | undefined> {
    const path = this.pathOf(ref);
    const info = await statOrUndefined(path);
    if (!info?.isFile()) return undefined;
    return { stream: createReadStream(path), contentType: contentTypeOf(ref.format), size: info.size };
  }

  async exists(ref: StoredImageRef): Promise<boolean> {
    return (await statOrUndefined(this.pathOf(ref)))?.isFile() ?? false;
  }

  async delete(ref: StoredImageRef): Promise<void> {
    try {
      await unlink(this.pathOf(ref));
      this.logger.debug({ msg: 'image deleted', driver: this.driver, sha256: ref.sha256 });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Absolute path of the image; `imageObjectKey` validates the hash, this re-checks containment. */
  private pathOf(ref: StoredImageRef): string {
    const path = join(this.root, ...imageObjectKey(ref).split('/'));
    if (!path.startsWith(this.root + sep)) throw new RangeError('image path escapes the store directory');
    return path;
  }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT';
}
