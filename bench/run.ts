import { parseArgs } from 'node:util';
import { BENCH_FAMILIES } from './families.ts';
import { DEFAULT_RESULTS_DIR, runBench } from './runner.ts';

const USAGE = `usage: npm run bench -- [--quick] [--json FILE] [--only NAME]
  --quick      fewer entities and iterations (under 3 minutes on 2 cores)
  --json FILE  also write the JSON report to FILE
  --only NAME  run one family: ${BENCH_FAMILIES.map((f) => f.name).join(', ')}
results: ${DEFAULT_RESULTS_DIR}latest.{json,md} and *.svg`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const started = performance.now();
  const { report, files } = await runBench({
    scale: values.quick ? 'quick' : 'full',
    only: values.only,
    jsonFile: values.json,
  });
  const measured = Object.values(report.metrics).filter((v) => v !== null).length;
  process.stderr.write(
    `done in ${((performance.now() - started) / 1000).toFixed(1)} s; ${measured}/${Object.keys(report.metrics).length}` +
      ` headline metrics measured; wrote:\n${files.map((f) => `  ${f}`).join('\n')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
