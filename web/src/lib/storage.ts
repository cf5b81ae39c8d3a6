/**
 * What the page keeps in the browser. The key and the swap secrets live in memory unless
 * the trader agreed to keep them in this browser's localStorage (readable by anyone who
 * can use this browser profile, and by any script running on this page: hence the
 * warning and the explicit consent). Nothing here is ever sent to the bridge.
 */

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEY_ITEM = "otc-bridge.key.v1";
const SECRETS_ITEM = "otc-bridge.secrets.v1";

export interface StoredKey {
  readonly seedHex: string;
  readonly backedUp: boolean;
}

export interface SecretRecord {
  /** The order id once the bridge answered, else "pending:<hashlock>". */
  readonly id: string;
  readonly preimageHex: string;
  readonly hashlock: string;
  readonly pair: string;
  readonly createdAt: number;
  /** The trader confirmed a copy is saved elsewhere. */
  readonly backedUp: boolean;
}

/** `window.localStorage`, or null where the browser refuses it (privacy modes). */
export function browserStorage(): KeyValueStore | null {
  try {
    const storage = globalThis.localStorage;
    const probe = "otc-bridge.probe";
    storage.setItem(probe, "1");
    storage.removeItem(probe);
    return storage;
  } catch {
    return null;
  }
}

export class Vault {
  private secrets = new Map<string, SecretRecord>();
  private persistent: boolean;

  constructor(private readonly storage: KeyValueStore | null) {
    this.persistent = storage?.getItem(KEY_ITEM) != null;
    if (this.persistent) {
      for (const record of this.readSecrets()) this.secrets.set(record.id, record);
    }
  }

  get available(): boolean {
    return this.storage !== null;
  }

  /** True when the key (and with it the swap secrets) is kept in this browser. */
  get isPersistent(): boolean {
    return this.persistent;
  }

  /** The key kept in this browser, if the trader agreed to keep it here. */
  storedKey(): StoredKey | null {
    const raw = this.storage?.getItem(KEY_ITEM);
    if (raw == null) return null;
    try {
      const parsed = JSON.parse(raw) as { seed_hex?: unknown; backed_up?: unknown };
      return typeof parsed.seed_hex === "string"
        ? { seedHex: parsed.seed_hex, backedUp: parsed.backed_up === true }
        : null;
    } catch {
      return null;
    }
  }

  /** Keep the key and every swap secret in localStorage: only after the trader agreed. */
  persist(seedHex: string, backedUp: boolean, now: number): void {
    if (this.storage === null) throw new Error("this browser does not allow local storage");
    const record = { seed_hex: seedHex, backed_up: backedUp, stored_at: now };
    this.storage.setItem(KEY_ITEM, JSON.stringify(record));
    this.persistent = true;
    this.writeSecrets();
  }

  markKeyBackedUp(now: number): void {
    const stored = this.storedKey();
    if (stored !== null) this.persist(stored.seedHex, true, now);
  }

  /** Remove the key and the secrets from localStorage; they stay in this tab's memory. */
  forget(): void {
    this.storage?.removeItem(KEY_ITEM);
    this.storage?.removeItem(SECRETS_ITEM);
    this.persistent = false;
  }

  /** Forget everything: in this browser and in this tab's memory. */
  wipe(): void {
    this.forget();
    this.secrets.clear();
  }

  putSecret(record: SecretRecord): void {
    this.secrets.set(record.id, record);
    this.writeSecrets();
  }

  renameSecret(from: string, to: string): SecretRecord | null {
    const record = this.secrets.get(from);
    if (record === undefined) return null;
    this.secrets.delete(from);
    const renamed = { ...record, id: to };
    this.secrets.set(to, renamed);
    this.writeSecrets();
    return renamed;
  }

  dropSecret(id: string): void {
    this.secrets.delete(id);
    this.writeSecrets();
  }

  markBackedUp(id: string): void {
    const record = this.secrets.get(id);
    if (record !== undefined) this.putSecret({ ...record, backedUp: true });
  }

  secret(id: string): SecretRecord | null {
    return this.secrets.get(id) ?? null;
  }

  allSecrets(): SecretRecord[] {
    return [...this.secrets.values()];
  }

  private readSecrets(): SecretRecord[] {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(SECRETS_ITEM) ?? "[]");
      return Array.isArray(parsed) ? (parsed as SecretRecord[]) : [];
    } catch {
      return [];
    }
  }

  private writeSecrets(): void {
    if (this.persistent && this.storage !== null) {
      this.storage.setItem(SECRETS_ITEM, JSON.stringify(this.allSecrets()));
    }
  }
}
