import { parentPort } from 'node:worker_threads';
import { ObjectDetector } from './object-detector';
import { SafetyClassifier } from './safety-classifier';
import { TextReader } from './text-reader';
import type { InspectTask, VisionFindings } from './vision.types';

/** A message from the pool: one task, answered with the same id. */
export interface WorkerRequest {
  id: number;
  task: InspectTask;
}

export type WorkerResponse = { id: number; findings: VisionFindings } | { id: number; error: string };

/**
 * One vision worker thread: each model is loaded the first time a task needs it, then kept for the
 * life of the thread; tasks run one at a time (the models are CPU-bound on this thread).
 */
const models: {
  detector?: Promise<ObjectDetector>;
  reader?: Promise<TextReader>;
  classifier?: Promise<SafetyClassifier>;
} = {};

async function inspect(task: InspectTask): Promise<VisionFindings> {
  const findings: VisionFindings = {};
  const { sourceWidth: width, sourceHeight: height } = task;
  if (task.objects) {
    models.detector ??= ObjectDetector.load();
    findings.objects = await (await models.detector).detect(task.objects, width, height);
  }
  if (task.text) {
    models.reader ??= TextReader.load();
    findings.text = await (await models.reader).read(task.text, width, height);
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
      response = { id: request.id, findings: await inspect(request.task) };
    } catch (error) {
      response = { id: request.id, error: error instanceof Error ? error.message : String(error) };
    }
    parentPort?.postMessage(response);
  });
});
