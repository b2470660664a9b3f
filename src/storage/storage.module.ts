import { Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../config/config.types';
import { IMAGE_STORE, ImageStore } from './image-store';
import { LocalImageStore } from './local-image.store';
import { S3ImageStore } from './s3-image.store';

/**
 * The `ImageStore` chosen by STORAGE_DRIVER: `local` (files under DATA_DIR/images) or `s3`.
 * Import this module and inject `IMAGE_STORE`.
 */
@Module({
  providers: [
    {
      provide: IMAGE_STORE,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>): ImageStore => {
        const storage = config.get('storage', { infer: true });
        const store = storage.driver === 's3' ? S3ImageStore.fromSettings(storage.s3) : new LocalImageStore(storage.localDir);
        new Logger(StorageModule.name).log({
          msg: 'image store ready',
          driver: store.driver,
          ...(storage.driver === 's3' ? { bucket: storage.s3.bucket, endpoint: storage.s3.endpoint } : {}),
        });
        return store;
      },
    },
  ],
  exports: [IMAGE_STORE],
})
export class StorageModule implements OnApplicationShutdown {
  constructor(@Inject(IMAGE_STORE) private readonly store: ImageStore) {}

  onApplicationShutdown(): void {
    if (this.store instanceof S3ImageStore) this.store.destroy();
  }
}
