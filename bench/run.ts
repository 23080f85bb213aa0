/**
 * `npm run bench -- <name>…`: runs the named benchmarks (all when none is named). Each prints its
 * numbers and writes bench/results/<name>.json.
 */
const benchmarks: Record<string, () => Promise<void>> = {};

const main = async (): Promise<void> => {
  const requested = process.argv.slice(2);
  const names = requested.length > 0 ? requested : Object.keys(benchmarks);
  if (names.length === 0) {
    console.log('no benchmarks registered yet');
    return;
  }
  for (const name of names) {
    const bench = benchmarks[name];
    if (!bench) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}`);
    console.log(`== bench ${name}`);
    await bench();
  }
};

await main();
