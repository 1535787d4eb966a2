import assert from "node:assert/strict";
import { describeRemote, resolveRemoteSettings, settingsPath } from "./settings.ts";
import { ConfigError, UsageError } from "../core/errors.ts";

/** A settings file in a temp folder, an environment of our own, and a cleanup. */
async function fixture(settings: unknown, mode = 0o600) {
  const dir = await Deno.makeTempDir({ prefix: "dlm-settings-" });
  const file = `${dir}/settings.json`;
  if (settings !== undefined) {
    await Deno.writeTextFile(file, JSON.stringify(settings), { mode });
    await Deno.chmod(file, mode);
  }
  return { file, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

function envOf(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

Deno.test("settingsPath() follows XDG_CONFIG_HOME, else ~/.config", () => {
  assert.equal(
    settingsPath(envOf({ XDG_CONFIG_HOME: "/x", HOME: "/home/u" })),
    "/x/deep-lstm-midi/settings.json",
  );
  assert.equal(
    settingsPath(envOf({ HOME: "/home/u" })),
    "/home/u/.config/deep-lstm-midi/settings.json",
  );
});

Deno.test("resolveRemoteSettings() gives none when no remote is set anywhere", async () => {
  const f = await fixture(undefined);
  try {
    assert.equal(await resolveRemoteSettings({ env: envOf({}), settingsFile: f.file }), undefined);
    await assert.rejects(
      () => resolveRemoteSettings({ env: envOf({}), settingsFile: f.file, required: true }),
      UsageError,
    );
  } finally {
    await f.cleanup();
  }
});

Deno.test("resolveRemoteSettings(): --remote, then $DLM_REMOTE, then the settings file", async () => {
  const f = await fixture({ remote: { url: "nats://file:4222", user: "u", password: "pw" } });
  try {
    const fromFile = await resolveRemoteSettings({ env: envOf({}), settingsFile: f.file });
    assert.equal(fromFile?.url, "nats://file:4222");
    assert.equal(fromFile?.source, f.file);
    assert.deepEqual(fromFile?.credentials, { user: "u", password: "pw" });

    const env = envOf({ DLM_REMOTE: "nats://env:4222" });
    const fromEnv = await resolveRemoteSettings({ env, settingsFile: f.file });
    assert.equal(fromEnv?.url, "nats://env:4222");
    // Credentials still come from the file: the URL says where, the file says who.
    assert.deepEqual(fromEnv?.credentials, { user: "u", password: "pw" });

    const fromFlag = await resolveRemoteSettings({
      flag: "nats://flag:4222",
      env,
      settingsFile: f.file,
    });
    assert.equal(fromFlag?.url, "nats://flag:4222");
    assert.equal(fromFlag?.source, "--remote");
  } finally {
    await f.cleanup();
  }
});

Deno.test("resolveRemoteSettings(): DLM_REMOTE_* variables override the file's credentials", async () => {
  const f = await fixture({ remote: { url: "nats://h:4222", user: "u", password: "pw" } });
  try {
    const token = await resolveRemoteSettings({
      env: envOf({ DLM_REMOTE_TOKEN: "t0k" }),
      settingsFile: f.file,
    });
    assert.deepEqual(token?.credentials, { token: "t0k" });
    const user = await resolveRemoteSettings({
      env: envOf({ DLM_REMOTE_USER: "v", DLM_REMOTE_PASSWORD: "pw2" }),
      settingsFile: f.file,
    });
    assert.deepEqual(user?.credentials, { user: "v", password: "pw2" });
  } finally {
    await f.cleanup();
  }
});

Deno.test("resolveRemoteSettings() keeps credentials out of URLs and descriptions", async () => {
  const f = await fixture(undefined);
  try {
    const err = await resolveRemoteSettings({
      flag: "nats://u:hunter2@h:4222",
      env: envOf({}),
      settingsFile: f.file,
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof UsageError);
    assert.ok(!err.message.includes("hunter2"));

    // From the environment, user:password in the URL is accepted and moved out of it.
    const s = await resolveRemoteSettings({
      env: envOf({ DLM_REMOTE: "nats://u:hunter2@h1:4222,nats://h2:4222" }),
      settingsFile: f.file,
    });
    assert.equal(s?.url, "nats://h1:4222,nats://h2:4222");
    assert.deepEqual(s?.credentials, { user: "u", password: "hunter2" });
    const text = describeRemote(s!);
    assert.equal(text, "nats://h1:4222,nats://h2:4222 (password)");
    assert.ok(!text.includes("hunter2") && !text.includes("u@"));
  } finally {
    await f.cleanup();
  }
});

Deno.test("resolveRemoteSettings() reads TLS, replicas and required from the file", async () => {
  const f = await fixture({
    remote: {
      url: "tls://h:4222",
      nkeySeedFile: "/k/seed.nk",
      tls: { caFile: "/k/ca.pem", certFile: "/k/c.pem", keyFile: "/k/c.key" },
      replicas: 3,
      required: true,
    },
  });
  try {
    const s = await resolveRemoteSettings({ env: envOf({}), settingsFile: f.file });
    assert.deepEqual(s?.credentials, {
      nkeySeedFile: "/k/seed.nk",
      tls: { caFile: "/k/ca.pem", certFile: "/k/c.pem", keyFile: "/k/c.key" },
    });
    assert.equal(s?.replicas, 3);
    assert.equal(s?.required, true);
    assert.equal(describeRemote(s!), "tls://h:4222 (nkey, TLS)");
  } finally {
    await f.cleanup();
  }
});

Deno.test("resolveRemoteSettings() names the file and the key of a bad setting", async () => {
  for (
    const [remote, pattern] of [
      [{ url: "nats://h:4222", replicas: 2.5 }, /remote\.replicas must be a whole number/],
      [{ url: "nats://h:4222", pasword: "x" }, /remote\.pasword is not a setting/],
      [{ url: "nats://h:4222", password: "x", token: "y" }, /give one of/],
      [{ url: "nats://h:4222", tls: { certFile: "/c.pem" } }, /both certFile and keyFile/],
    ] as const
  ) {
    const f = await fixture({ remote });
    try {
      const err = await resolveRemoteSettings({ env: envOf({}), settingsFile: f.file })
        .then(() => undefined, (e) => e);
      assert.ok(err instanceof ConfigError, String(err));
      assert.ok(err.message.startsWith(f.file), err.message);
      assert.match(err.message, pattern);
    } finally {
      await f.cleanup();
    }
  }
});

Deno.test("resolveRemoteSettings() warns when others can read a password in the file", async () => {
  const f = await fixture({ remote: { url: "nats://h:4222", user: "u", password: "pw" } }, 0o644);
  try {
    const s = await resolveRemoteSettings({ env: envOf({}), settingsFile: f.file });
    assert.equal(s?.warnings.length, 1);
    assert.match(s!.warnings[0]!, /chmod 600/);
    assert.ok(!s!.warnings[0]!.includes('pw"'));
  } finally {
    await f.cleanup();
  }
});
