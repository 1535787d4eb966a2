/**
 * Headless Chromium for the page tests: find it, and open a page with it.
 *
 * @module
 */

/** The first Chromium found: $CHROMIUM, then the usual Debian and Ubuntu names. */
export function findChromium(): string | undefined {
  const candidates = [
    Deno.env.get("CHROMIUM"),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
  ];
  return candidates.find((path) => {
    try {
      return path !== undefined && path !== "" && Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** The Chromium the page tests use, or undefined (then they are skipped). */
export const chromium: string | undefined = findChromium();

/** Prints why `test` is skipped when there is no Chromium; true when it is. */
export function skipWithoutChromium(test: string): boolean {
  if (chromium !== undefined) return false;
  console.log(
    `${test} SKIPPED: no Chromium found (looked for $CHROMIUM, /usr/bin/chromium, ` +
      "/usr/bin/chromium-browser, /usr/bin/google-chrome); install it with " +
      "`apt-get install chromium` (.ci/run does) to check the page in a browser",
  );
  return true;
}

/** Runs headless Chromium on `url` with `flags`; its DOM dump (stdout) and log (stderr). */
export async function headless(url: string, flags: string[]) {
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  try {
    const out = await new Deno.Command(chromium!, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--enable-logging=stderr",
        "--v=0",
        ...flags,
        url,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(90_000),
    }).output();
    return {
      code: out.code,
      dom: new TextDecoder().decode(out.stdout),
      log: new TextDecoder().decode(out.stderr),
    };
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** The lines of a headless Chromium log that are the page's console messages. */
export function consoleLines(log: string): string[] {
  return log.split("\n").filter((l) => /:CONSOLE[:(]/.test(l));
}
