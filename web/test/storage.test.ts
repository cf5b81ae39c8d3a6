import assert from "node:assert/strict";
import { test } from "node:test";

import { Vault } from "../src/lib/storage";
import { MemoryStorage } from "./fixtures";

const secret = {
  id: "pending:ab",
  preimageHex: "11".repeat(32),
  hashlock: "ab",
  pair: "RTC/USDC",
  createdAt: 1,
  backedUp: false,
};

test("nothing reaches localStorage before the trader agrees", () => {
  const storage = new MemoryStorage();
  const vault = new Vault(storage);
  vault.putSecret(secret);
  assert.equal(storage.items.size, 0);
  assert.equal(vault.secret("pending:ab")?.preimageHex, secret.preimageHex);
});

test("after consent the key and the secrets survive a reload; forget removes both", () => {
  const storage = new MemoryStorage();
  const vault = new Vault(storage);
  vault.putSecret(secret);
  vault.persist("22".repeat(32), false, 5);
  vault.renameSecret("pending:ab", "otc_1");
  const reloaded = new Vault(storage);
  assert.equal(reloaded.isPersistent, true);
  assert.deepEqual(reloaded.storedKey(), { seedHex: "22".repeat(32), backedUp: false });
  reloaded.markKeyBackedUp(6);
  assert.equal(new Vault(storage).storedKey()?.backedUp, true);
  assert.equal(reloaded.secret("otc_1")?.preimageHex, secret.preimageHex);
  reloaded.forget();
  assert.equal(storage.items.size, 0);
  assert.equal(new Vault(storage).storedKey(), null);
});
