/**
 * The store a command works on: the local folder (`--store`), with the shared remote behind it
 * when one is set (`--remote`, $DLM_REMOTE or the settings file; remote/settings.ts). A
 * remote that cannot be reached is said in one line and the command goes on locally, unless
 * `--remote-required` asks it to stop.
 *
 * @module
 */
import { warn } from "./terminal_text.ts";
import type { CliArgs } from "./args.ts";
import { connectRemote } from "../remote/nats/connect.ts";
import { type Remote, RemoteError } from "../remote/remote.ts";
import { resolveRemoteSettings } from "../remote/settings.ts";
import { SharedStore } from "../store/shared_store.ts";
import type { Store } from "../core/storage.ts";
import { LocalStore } from "../store/store.ts";
import { formatBytes } from "../report/text.ts";

/** A command's store, and the remote behind it when there is one. */
export interface OpenedStore {
  store: Store;
  /** The remote, for the commands that use its work queue (sweep --queue, worker). */
  remote?: Remote;
  /** Closes the connection to the remote, if any. */
  close(): Promise<void>;
}

/** Opens the command's store (see the module comment). */
export async function openStore(args: CliArgs): Promise<OpenedStore> {
  const settings = await resolveRemoteSettings({
    flag: args.remote,
    required: args.remoteRequired,
  });
  const local = (): OpenedStore => ({
    store: new LocalStore(args.store, warn),
    close: () => Promise.resolve(),
  });
  if (settings === undefined) return local();
  for (const warning of settings.warnings) warn(warning);
  try {
    const remote = await connectRemote(settings.url, settings.credentials, {
      replicas: settings.replicas,
    });
    if (!args.quiet) console.log(`remote ${remote.description} (from ${settings.source})`);
    // $DLM_REMOTE_LOCK_TTL_MS: how soon a dead machine's lock is taken over (default 30 s).
    const ttl = Number(Deno.env.get("DLM_REMOTE_LOCK_TTL_MS"));
    const lockTtlMs = Number.isInteger(ttl) && ttl >= 1000 ? ttl : undefined;
    const store = new SharedStore(args.store, remote, settings.required, {
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
    return { store, remote, close: () => store.close() };
  } catch (e) {
    if (!(e instanceof RemoteError) || settings.required) throw e;
    console.error(
      `warning: ${e.message}; going on with the local store only (--remote-required stops instead)`,
    );
    return local();
  }
}
