/**
 * Worker thread for `kvmlint range`: analyses the commits the main thread posts
 * (its share of the range) with its own git cat-file process and caches, and
 * posts back findings and errors when told the stream is done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ChangeSet } from '../inputs/index.js';
import { selectRules } from '../rules/index.js';
import { RangeAnalysis } from './run.js';

interface Init {
  repo: string;
  rules: string[];
  all: boolean;
}

const init = workerData as Init;
const port = parentPort!;
const job = await RangeAnalysis.open(init.repo, { rules: selectRules(init.rules), all: init.all });
port.on('message', (msg: { cs?: ChangeSet; seq?: number; done?: boolean }) => {
  if (msg.cs && msg.seq !== undefined) job.add(msg.cs, msg.seq);
  if (msg.done) void job.finish().then((result) => port.postMessage(result));
});
port.postMessage({ ready: true });
