/**
 * The key panel: create, import, export (back up) and remove the trader's Ed25519 key,
 * and keep it in this browser only after an explicit, warned consent.
 */

import { SeedFormatError, type TradingKey, createKey, importKey } from "../lib/keys";
import type { Vault } from "../lib/storage";
import { type Child, fill, focusOn, h } from "./dom";
import type { Observable } from "./observable";
import { copyText, saveTextFile } from "./save";

export interface KeyState {
  readonly key: TradingKey;
  readonly backedUp: boolean;
}

type Aside = "none" | "export" | "consent" | "remove";

const STORAGE_WARNING =
  "Anyone who can use this browser profile, and any program or extension that can read " +
  "this site's data, can take a key kept here and with it your RTC. Keep only what you " +
  "trade, and keep your own backup.";

export class KeyPanel {
  private aside: Aside = "none";
  private importError = "";
  private busy = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly state: Observable<KeyState | null>,
    private readonly vault: Vault,
    private readonly now: () => number,
  ) {
    state.subscribe(() => this.render());
  }

  render(focusId?: string): void {
    const current = this.state.value;
    fill(this.root, ...(current === null ? this.noKey() : this.withKey(current)));
    if (focusId !== undefined) {
      const target = document.getElementById(focusId);
      if (target !== null) focusOn(target);
    }
  }

  private button(
    label: string,
    onClick: () => void | Promise<void>,
    id?: string,
    cls = "secondary",
  ): HTMLButtonElement {
    return h(
      "button",
      {
        ...(id === undefined ? {} : { id }),
        class: cls,
        attrs: { type: "button" },
        on: { click: () => void onClick() },
      },
      label,
    );
  }

  private noKey(): Child[] {
    const seedInput = h("input", {
      id: "import-seed",
      attrs: {
        type: "password",
        autocomplete: "off",
        spellcheck: "false",
        inputmode: "text",
        "aria-describedby": "import-hint import-error",
        ...(this.importError ? { "aria-invalid": "true" } : {}),
      },
    });
    const importForm = h(
      "form",
      {
        class: "import",
        on: {
          submit: (event) => {
            event.preventDefault();
            void this.importFrom(seedInput.value);
          },
        },
      },
      h("label", { attrs: { for: "import-seed" } }, "Import a key"),
      h(
        "p",
        { id: "import-hint", class: "hint" },
        "64 hexadecimal characters: the seed the Python client's Wallet.from_seed takes, or this page exported.",
      ),
      seedInput,
      h("p", { id: "import-error", class: "error", attrs: { role: "alert" } }, this.importError),
      h("button", { id: "import-key", class: "secondary", attrs: { type: "submit" } }, "Import key"),
    );
    return [
      h("p", {}, "No key in this page yet. Your key signs every order; its address is your RTC wallet."),
      this.button("Create a new key", () => this.create(), "create-key", "primary"),
      importForm,
    ];
  }

  private withKey({ key, backedUp }: KeyState): Child[] {
    const stored = this.vault.isPersistent;
    const status = stored
      ? "Kept in this browser (its local storage), with your swap secrets."
      : "Kept in this tab only: reloading or closing the page forgets it and any swap secret made here.";
    const parts: Child[] = [
      h(
        "dl",
        { class: "key-facts" },
        h("dt", {}, "RTC address"),
        h("dd", {}, h("code", { id: "key-address", class: "address" }, key.address)),
        h("dt", {}, "Storage"),
        h("dd", { id: "key-storage" }, status),
      ),
    ];
    if (!backedUp) {
      parts.push(
        h(
          "div",
          {
            id: "key-backup-prompt",
            class: "callout warn",
            attrs: { role: "region", "aria-labelledby": "key-backup-title" },
          },
          h("h3", { id: "key-backup-title" }, "Back up your key now"),
          h(
            "p",
            {},
            "Without a copy, nobody can recover this wallet or the RTC in it. Show the key, save it somewhere safe, then confirm.",
          ),
          this.aside === "export"
            ? null
            : this.button("Show my key to back it up", () => this.open("export", "export-seed")),
        ),
      );
    }
    const actions = h(
      "div",
      { class: "actions" },
      this.button(
        this.aside === "export" ? "Hide key" : "Show key (export)",
        () =>
          this.open(
            this.aside === "export" ? "none" : "export",
            this.aside === "export" ? "show-key" : "export-seed",
          ),
        "show-key",
      ),
      stored
        ? this.button("Forget it in this browser", () => this.forget(), "forget-key")
        : this.vault.available
          ? this.button("Keep it in this browser…", () => this.open("consent", "consent-title"), "keep-key")
          : null,
      this.button("Remove key from this page…", () => this.open("remove", "remove-title"), "remove-key"),
    );
    parts.push(actions);
    if (!this.vault.available) {
      parts.push(
        h(
          "p",
          { class: "hint" },
          "This browser does not let the page keep data, so the key lives in this tab only.",
        ),
      );
    }
    if (this.aside === "export") parts.push(this.exportBox(key));
    if (this.aside === "consent") parts.push(this.consentBox(key, backedUp));
    if (this.aside === "remove") parts.push(this.removeBox());
    return parts;
  }

  private exportBox(key: TradingKey): HTMLElement {
    const seed = key.exportSeedHex();
    const feedback = h("p", { id: "export-feedback", class: "hint", attrs: { role: "status" } });
    return h(
      "div",
      { class: "callout", attrs: { role: "region", "aria-labelledby": "export-title" } },
      h("h3", { id: "export-title" }, "Your key"),
      h(
        "p",
        { class: "warn-text" },
        "Anyone who has this text controls your RTC wallet. Never paste it into a site or message; keep it offline.",
      ),
      h("label", { attrs: { for: "export-seed" } }, "Key (64 hexadecimal characters)"),
      h(
        "textarea",
        {
          id: "export-seed",
          class: "mono",
          attrs: { readonly: true, rows: "2", autocomplete: "off", spellcheck: "false" },
        },
        seed,
      ),
      h(
        "div",
        { class: "actions" },
        this.button("Copy", async () => {
          feedback.textContent = (await copyText(seed))
            ? "Copied."
            : "Copy failed: select the text and copy it.";
        }),
        this.button("Download as a file", () => saveTextFile(`rtc-key-${key.address}.txt`, `${seed}\n`)),
        this.button("I have saved my key", () => this.confirmBackup(), "key-saved", "primary"),
      ),
      feedback,
    );
  }

  private consentBox(key: TradingKey, backedUp: boolean): HTMLElement {
    return h(
      "div",
      { class: "callout warn", attrs: { role: "region", "aria-labelledby": "consent-title" } },
      h("h3", { id: "consent-title" }, "Keep the key in this browser?"),
      h("p", {}, STORAGE_WARNING),
      h(
        "div",
        { class: "actions" },
        this.button(
          "Yes, keep it in this browser",
          () => {
            this.vault.persist(key.exportSeedHex(), backedUp, this.now());
            this.aside = "none";
            this.render("key-storage");
          },
          "consent-yes",
          "primary",
        ),
        this.button("Cancel", () => this.open("none", "keep-key")),
      ),
    );
  }

  private removeBox(): HTMLElement {
    return h(
      "div",
      { class: "callout warn", attrs: { role: "region", "aria-labelledby": "remove-title" } },
      h("h3", { id: "remove-title" }, "Remove the key from this page?"),
      h(
        "p",
        {},
        "The page forgets the key and its swap secrets, in this tab and in this browser. Without your own backup the wallet and its RTC are lost to you.",
      ),
      h(
        "div",
        { class: "actions" },
        this.button(
          "Remove the key",
          () => {
            this.vault.wipe();
            this.aside = "none";
            this.state.set(null);
            this.render("create-key");
          },
          "remove-yes",
          "danger",
        ),
        this.button("Cancel", () => this.open("none", "remove-key")),
      ),
    );
  }

  private open(aside: Aside, focusId: string): void {
    this.aside = aside;
    this.render(focusId);
  }

  private confirmBackup(): void {
    const current = this.state.value;
    if (current === null) return;
    this.vault.markKeyBackedUp(this.now());
    this.aside = "none";
    this.state.set({ ...current, backedUp: true });
    this.render("key-address");
  }

  private forget(): void {
    this.vault.forget();
    this.render("key-storage");
  }

  private async create(): Promise<void> {
    await this.run(async () => {
      const key = await createKey();
      this.aside = "none";
      this.state.set({ key, backedUp: false });
      this.render("key-backup-title");
    });
  }

  private async importFrom(text: string): Promise<void> {
    await this.run(async () => {
      try {
        const key = await importKey(text);
        this.importError = "";
        this.aside = "none";
        this.state.set({ key, backedUp: true }); // it came from a backup
        this.render("key-address");
      } catch (err) {
        this.importError = err instanceof SeedFormatError ? err.message : "This key could not be read.";
        this.render("import-seed");
      }
    });
  }

  private async run(task: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await task();
    } finally {
      this.busy = false;
    }
  }
}
