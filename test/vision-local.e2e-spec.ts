import { printedLine, printedLineOnPage, stopSignScene } from './fixtures/vision-images';
import { VisionService } from '../src/vision/vision.service';
import { AnalysisSuite, startAnalysisSuite } from './analyses-test-kit';

interface Found {
  label?: string;
  text?: string;
  score: number;
  box: { x: number; y: number; width: number; height: number };
}

/** The `local` provider's findings (docs/api.md, "What the local provider finds"), models loaded once for the file. */
describe('local provider: objects and text (e2e)', () => {
  let suite: AnalysisSuite;
  // Loading three models and running them on two busy cores is slow, not wrong: the tests bound it generously.
  jest.setTimeout(120_000);

  beforeAll(async () => {
    suite = await startAnalysisSuite({ AI_PROVIDER: 'local' });
    // Under NODE_ENV=test nothing loads the models at start (every e2e app would): load them here,
    // as a worker process does at boot, so a test's upload does not outwait its sync wait.
    await suite.t.app.get(VisionService).warmUp({ objects: true, text: true, safety: true });
  }, 180_000);

  afterAll(async () => {
    await suite?.t.close();
  });

  it('finds the stop sign and reads its text, and writes both into the summary and tags', async () => {
    const res = await suite.upload(await stopSignScene(), { filename: 'stop.jpg' }).expect(201);

    const { objects, text } = res.body.result.details as { objects: Found[]; text: Found[] };
    expect(objects.map((object) => object.label)).toContain('stop sign');
    const sign = objects.find((object) => object.label === 'stop sign')!;
    expect(sign.score).toBeGreaterThan(0.5);
    // the octagon spans x 250–550, y 80–380 of the 800 × 600 scene
    expect(sign.box.x).toBeGreaterThan(200);
    expect(sign.box.x + sign.box.width).toBeLessThan(600);
    expect(text.map((line) => line.text).join(' ')).toContain('STOP');
    expect(res.body.result.summary).toContain('stop sign');
    expect(res.body.result.summary).toContain("text: 'STOP'");
    expect(res.body.result.tags).toEqual(expect.arrayContaining(['stop sign', 'text']));
    expect(res.body.result.details.colors).toEqual(expect.any(Array));
    expect(res.body.model).toBe('local-vision-v2');
  });

  it('reads a printed line of text word by word', async () => {
    const res = await suite.upload(await printedLine('INVOICE 2048 PAID'), { filename: 'line.png' }).expect(201);

    const lines = (res.body.result.details.text as Found[]).map((line) => line.text);
    expect(lines.join(' ')).toContain('2048');
    expect(lines.join(' ')).toContain('PAID');
    expect(lines.join(' ')).toContain('INVOICE');
    expect(res.body.result.details.objects).toEqual([]);
  });

  // The text detector reads a downscaled copy (DETECTOR_MAX_EDGE, src/vision/text-reader.ts): 12 px
  // text on a 1568 px page is the smallest it still reads whole (docs/performance.md, bench:vision).
  // A smaller detector input loses it; this guards that edge, through VisionService directly.
  it('reads a line of 12 px capitals on a 1568 × 1176 page', async () => {
    const page = await printedLineOnPage('INVOICE 2048 PAID', 16); // capitals 12 px tall, see the fixture

    const findings = await suite.t.app.get(VisionService).inspect(page, { text: true });

    const read = (findings.text ?? []).map((line) => line.text.toUpperCase().replace(/\s+/g, ' ')).join(' ');
    expect(read.split(' ')).toEqual(expect.arrayContaining(['INVOICE', '2048', 'PAID']));
  });
});
