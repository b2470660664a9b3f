import { Module } from '@nestjs/common';
import { ImageAnalysisModule } from './image/image-analysis.module';
import { IpModule } from './ip/ip.module';

/** The two analyses Argus offers: image analysis (`image/`) and IP reputation (`ip/`). */
@Module({
  imports: [ImageAnalysisModule, IpModule],
})
export class AnalysisModule {}
