/**
 * The store a command works on: the local folder (`--store`), with the shared remote behind it
 * when one is set (`--remote`, $DLM_REMOTE or the settings file; core/remote_settings.ts). A
 * remote that cannot be reached is said in one line and the command goes on locally, unless
 * `--remote-required` asks it to stop.
 *
 * @module
 */
import { terminalText } from "./terminal_text.ts";
import type { CliArgs } from "./args.ts";
import { connectRemote, RemoteError } from "../core/remote.ts";
import { resolveRemoteSettings } from "../core/remote_settings.ts";
import { SharedStore } from "../core/shared_store.ts";
import { Store } from "../core/store.ts";
import { formatBytes } from "./progress.ts";

/** Opens the command's store (see the module comment). */
export async function openStore(args: CliArgs): Promise<Store> {
  const settings = await resolveRemoteSettings({
    flag: args.remote,
    required: args.remoteRequired,
  });
  const warn = (message: string) => console.error(terminalText(`warning: ${message}`));
  if (settings === undefined) return new Store(args.store, warn);
  for (const warning of settings.warnings) console.error(`warning: ${warning}`);
  try {
    const remote = await connectRemote(settings.url, settings.credentials, {
      replicas: settings.replicas,
    });
    if (!args.quiet) console.log(`remote ${remote.description} (from ${settings.source})`);
    // $DLM_REMOTE_LOCK_TTL_MS: how soon a dead machine's lock is taken over (default 30 s).
    const ttl = Number(Deno.env.get("DLM_REMOTE_LOCK_TTL_MS"));
    const lockTtlMs = Number.isInteger(ttl) && ttl >= 1000 ? ttl : undefined;
    return new SharedStore(args.store, remote, settings.required, {
      warn,
      fetched: (key, objects, bytes) => {
        if (!args.quiet) {
          console.log(
            `  fetched ${key.slice(0, 12)} from the remote: ${objects} object${
              objects === 1 ? "" : "s"
            }, ${formatBytes(bytes)}`,
          );
        }
      },
    }, lockTtlMs);
  } catch (e) {
    if (!(e instanceof RemoteError) || settings.required) throw e;
    console.error(
      `warning: ${e.message}; going on with the local store only (--remote-required stops instead)`,
    );
    return new Store(args.store, warn);
  }
}
