import assert from "node:assert/strict";
import { FileTooLargeError, NotRegularFileError, readRegularFile } from "./regular_file.ts";

Deno.test("readRegularFile reads a regular file up to the cap, and refuses one over it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regular-file-" });
  const bytes = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
  await Deno.writeFile(`${dir}/a.mid`, bytes);
  await Deno.symlink(`${dir}/a.mid`, `${dir}/link.mid`);
  assert.deepEqual(await readRegularFile(`${dir}/a.mid`, 100_000), bytes);
  assert.deepEqual(await readRegularFile(`${dir}/link.mid`, 100_000), bytes, "a link is followed");
  await assert.rejects(
    readRegularFile(`${dir}/a.mid`, 99_999),
    (e) =>
      e instanceof FileTooLargeError && e.size === 100_000 &&
      e.message === `${dir}/a.mid is 100000 bytes, over the limit of 99999 bytes`,
  );
  await Deno.writeFile(`${dir}/empty.mid`, new Uint8Array());
  assert.equal((await readRegularFile(`${dir}/empty.mid`, 10)).length, 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readRegularFile refuses a folder and a device, following symlinks, without opening them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "regular-file-" });
  await Deno.symlink("/dev/zero", `${dir}/zero.mid`);
  for (const [path, kind] of [[dir, "a folder"], [`${dir}/zero.mid`, "a character device"]]) {
    await assert.rejects(
      readRegularFile(path!, 1 << 20),
      (e) =>
        e instanceof NotRegularFileError &&
        e.message === `${path} is not a regular file (it is ${kind}); give a MIDI file`,
    );
  }
  await assert.rejects(readRegularFile(`${dir}/missing.mid`, 10), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});
