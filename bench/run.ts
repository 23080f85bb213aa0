import { readdir } from 'node:fs/promises';

/**
 * `npm run bench -- <name>…`: runs bench/<name>.bench.ts for each name (all when none is named).
 * Flags after the names go to each benchmark; `--help` prints each one's usage instead of running it.
 * Each benchmark module's default export prints its numbers and writes bench/results/<name>.json.
 */
const main = async (): Promise<void> => {
  const here = new URL('.', import.meta.url);
  const known = (await readdir(here))
    .filter((file) => file.endsWith('.bench.ts'))
    .map((file) => file.slice(0, -9));
  const args = process.argv.slice(2);
  // Names first; flags (`--x value`) go to every benchmark named (`npm run bench -- turns --help`).
  const firstFlag = args.findIndex((arg) => arg.startsWith('--'));
  const requested = firstFlag < 0 ? args : args.slice(0, firstFlag);
  const flags = firstFlag < 0 ? [] : args.slice(firstFlag);
  const names = requested.length > 0 ? requested : known;
  for (const name of names) {
    if (!known.includes(name))
      throw new Error(`unknown benchmark "${name}"; known: ${known.join(', ') || 'none'}`);
  }
  // `--help` prints what each benchmark named (or all) does and takes, and runs none of them.
  const help = flags.includes('--help');
  for (const name of names) {
    console.log(`== bench ${name}`);
    const module = (await import(new URL(`./${name}.bench.ts`, here).href)) as {
      default: (flags: readonly string[]) => Promise<void>;
      usage: string;
    };
    if (help) console.log(module.usage);
    else await module.default(flags);
  }
};

await main();
