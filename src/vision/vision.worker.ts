import { parentPort } from 'node:worker_threads';
import { ObjectDetector } from './object-detector';
import { SafetyClassifier } from './safety-classifier';
import { TextReader } from './text-reader';
import type { InspectOptions, InspectTask, VisionFindings } from './vision.types';

/** A message from the pool: one task (or a warm-up: load these models now), answered with the same id. */
export type WorkerRequest = { id: number; task: InspectTask } | { id: number; warm: InspectOptions };

export type WorkerResponse = { id: number; findings: VisionFindings } | { id: number; error: string };

/**
 * One vision worker thread: each model is loaded by a warm-up (at process start, see
 * vision-warmup.ts) or the first time a task needs it, then kept for the life of the thread; tasks
 * run one at a time (the models are CPU-bound on this thread), so a task sent during a warm-up waits for it.
 */
const models: {
  detector?: Promise<ObjectDetector>;
  reader?: Promise<TextReader>;
  classifier?: Promise<SafetyClassifier>;
} = {};

async function warm(options: InspectOptions): Promise<VisionFindings> {
  await Promise.all([
    options.objects && (models.detector ??= ObjectDetector.load()),
    options.text && (models.reader ??= TextReader.load()),
    options.safety && (models.classifier ??= SafetyClassifier.load()),
  ]);
  return {};
}

async function inspect(task: InspectTask): Promise<VisionFindings> {
  const findings: VisionFindings = {};
  const { sourceWidth: width, sourceHeight: height } = task;
  if (task.objects) {
    models.detector ??= ObjectDetector.load();
    findings.objects = await (await models.detector).detect(task.objects, width, height);
  }
  if (task.text) {
    models.reader ??= TextReader.load();
    findings.text = await (await models.reader).read(task.text, task.textDetection ?? task.text, width, height);
  }
  if (task.safety) {
    models.classifier ??= SafetyClassifier.load();
    findings.safety = await (await models.classifier).classify(task.safety);
  }
  return findings;
}

let queue: Promise<void> = Promise.resolve();

parentPort?.on('message', (request: WorkerRequest) => {
  queue = queue.then(async () => {
    let response: WorkerResponse;
    try {
      const findings = 'warm' in request ? await warm(request.warm) : await inspect(request.task);
      response = { id: request.id, findings };
    } catch (error) {
      response = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    parentPort?.postMessage(response);
  });
});
