import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's `chromium` package: browser tests drive it through playwright-core (never a download). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const INSTALL = 'apt-get update && apt-get install -y chromium';

/**
 * The browser for browser tests: Debian's chromium, installed with apt when missing (CI runs as
 * root). Fails with what to run when it cannot install it; never fetches a Playwright browser.
 */
export const ensureChromium = (): string => {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const root = process.getuid?.() === 0;
  if (root) {
    process.stderr.write(`[browser tests] ${CHROMIUM_PATH} missing: running \`${INSTALL}\`\n`);
    const result = spawnSync('sh', ['-c', INSTALL], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status === 0 && existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  }
  throw new Error(
    `Browser tests need Debian's chromium at ${CHROMIUM_PATH}. ` +
      `${root ? 'Installing it failed' : 'Not root, so it was not installed'}: run \`${INSTALL}\` as root.`,
  );
};
