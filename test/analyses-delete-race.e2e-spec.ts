import { setTimeout as sleep } from 'node:timers/promises';
import { AnalysisSuite, startAnalysisSuite } from './analyses-test-kit';
import { uniqueJpeg } from './fixtures/images';
import { servicesMode } from './support/test-app';

const PAIRS = 40;

/**
 * Issue 16, item 3 (docs/api.md, Image analysis, DELETE): "image in use" and "row inserted" are one decision, so an
 * upload of the same bytes racing the delete of the last analysis that used them keeps its image.
 */
describe(`Deleting an analysis while the same bytes are uploaded — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  let s: AnalysisSuite;

  beforeAll(async () => {
    s = await startAnalysisSuite({ AI_PROVIDER: 'local' });
  });
  afterAll(async () => {
    await s?.t.close();
  });

  it(`keeps the new analysis's image in every one of ${PAIRS} racing pairs`, async () => {
    const lost: string[] = [];
    for (let pair = 0; pair < PAIRS; pair++) {
      const file = await uniqueJpeg();
      const first = await s.upload(file).expect(201);

      // The upload of the same bytes starts, then the delete of the only analysis using them a few
      // milliseconds later (a different offset each pair, to sweep the window between the upload's
      // "is the image stored?" and its row being written).
      const uploading = s.upload(file).then((res) => res);
      await sleep(pair % 10);
      const [deleted, again] = await Promise.all([
        s.del(`/v1/analyses/${first.body.id}`).then((res) => res),
        uploading,
      ]);

      if (deleted.status !== 204 || again.status !== 201) {
        lost.push(`pair ${pair}: DELETE → ${deleted.status}, upload → ${again.status} ${JSON.stringify(again.body)}`);
        continue;
      }
      const image = await s.get(`/v1/analyses/${again.body.id}/image`);
      if (image.status !== 200) lost.push(`pair ${pair}: GET image → ${image.status}`);
    }
    expect(lost).toEqual([]);
  }, 180_000);

  it('still removes the image with the last analysis when nothing races', async () => {
    const file = await uniqueJpeg();
    const only = await s.upload(file).expect(201);
    await s.del(`/v1/analyses/${only.body.id}`).expect(204);
    const again = await s.upload(file).expect(201);
    // Cached answer, image stored again from the upload.
    expect(again.body.cached).toBe(true);
    await s.get(`/v1/analyses/${again.body.id}/image`).expect(200);
  });
});
